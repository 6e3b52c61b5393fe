package smux.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

/** Test keys made with the JDK's keytool: a PKCS12 file, and the same key and certificate as PEM. */
final class Keys {
    static final String PASSWORD = "smux-test";

    final Path p12;
    final Path certPem;
    final Path keyPem;

    private Keys(Path p12, Path certPem, Path keyPem) {
        this.p12 = p12;
        this.certPem = certPem;
        this.keyPem = keyPem;
    }

    /** A self-signed EC key for 127.0.0.1 named {@code name}. A missing keytool fails the test. */
    static Keys make(Path dir, String name) throws Exception {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        assertTrue(Files.isExecutable(keytool), "keytool is part of every JDK; not found at " + keytool);
        Path p12 = dir.resolve(name + ".p12");
        run(keytool.toString(), "-genkeypair", "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=" + name, "-ext", "SAN=ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", p12.toString(), "-storepass", PASSWORD);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(p12)) {
            ks.load(in, PASSWORD.toCharArray());
        }
        Certificate cert = ks.getCertificate(name);
        PrivateKey key = (PrivateKey) ks.getKey(name, PASSWORD.toCharArray());
        Path certPem = dir.resolve(name + "-cert.pem");
        Files.writeString(certPem, pem("CERTIFICATE", cert.getEncoded()));
        Path keyPem = dir.resolve(name + "-key.pem"); // PKCS#8 key, then its certificate: what --tls-key takes
        Files.writeString(keyPem, pem("PRIVATE KEY", key.getEncoded()) + pem("CERTIFICATE", cert.getEncoded()));
        return new Keys(p12, certPem, keyPem);
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "keytool failed: " + out);
    }
}
