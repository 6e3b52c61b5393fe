package smux.cli;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * The tunnel's TLS options. TLS runs over the {@code socket} transport only: a session needs
 * an {@link SSLSocket}'s streams, and the NIO transport needs a channel, which an SSLSocket has
 * not (see {@code smux.api.Smux}). The client verifies that the server's certificate names the
 * host of {@code --server}, as HTTPS does.
 */
final class TlsOptions {
    /** The environment variable that holds the password of a PKCS12 file (empty if unset). */
    static final String PASSWORD_VARIABLE = "SMUX_TLS_PASSWORD";
    private static final int HANDSHAKE_TIMEOUT_MILLIS = 10_000;

    @Option(names = "--tls", description = "Encrypt the session with TLS; both ends need it.")
    boolean tls;

    @Option(names = "--tls-key", paramLabel = "FILE",
            description = {"This end's private key and certificate chain (required on the server): a PKCS12 file, "
                    + "or a PEM file holding a PKCS#8 PRIVATE KEY and its CERTIFICATE(s). A PKCS12 password is read from "
                    + "the environment variable " + PASSWORD_VARIABLE + "."})
    Path key;

    @Option(names = "--tls-trust", paramLabel = "FILE",
            description = {"The certificates (or CAs) this end trusts for its peer: PEM, or a PKCS12 file. "
                    + "Client: default the JDK's trusted CAs. Server: when given, clients must present a certificate it trusts."})
    Path trust;

    private SSLContext context;

    /**
     * Checks the options and loads the files.
     *
     * @param server whether this is the tunnel server (which needs a key)
     * @param nio whether the NIO transport was asked for (it cannot carry TLS)
     */
    void check(CommandSpec spec, boolean server, boolean nio) {
        if (!tls) {
            if (key != null || trust != null) {
                throw Flags.bad(spec, key != null ? "--tls-key" : "--tls-trust", "only applies with --tls");
            }
            return;
        }
        if (nio) {
            throw Flags.bad(spec, "--tls", "needs the socket transport: an SSLSocket has no channel for --transport nio");
        }
        if (server && key == null) {
            throw Flags.bad(spec, "--tls", "the server needs --tls-key (its private key and certificate)");
        }
        try {
            KeyManagerFactory kmf = null;
            if (key != null) {
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(keyStore(spec, "--tls-key", key, true), password());
            }
            TrustManagerFactory tmf = null;
            if (trust != null) {
                tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(keyStore(spec, "--tls-trust", trust, false));
            }
            context = SSLContext.getInstance("TLS");
            context.init(kmf == null ? null : kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
        } catch (GeneralSecurityException e) {
            throw Flags.bad(spec, key != null ? "--tls-key" : "--tls-trust", "cannot set up TLS: " + Log.describe(e));
        }
    }

    boolean enabled() {
        return context != null;
    }

    /**
     * Server side: with TLS, layers TLS over an accepted plain socket and completes the handshake;
     * without, returns the socket as it is. The listener is plain so that the first bytes can be
     * looked at: a peer that sends an smux frame where a ClientHello belongs is named as a plain
     * client ({@link PlainPeer}). The bytes still go to the TLS layer, whose alert tells the client
     * it met TLS.
     *
     * @return the socket a session runs over
     * @throws PlainPeer if the peer sent plain smux
     * @throws IOException if the handshake failed otherwise
     */
    Socket accept(Socket accepted) throws IOException {
        if (context == null) {
            return accepted;
        }
        accepted.setSoTimeout(HANDSHAKE_TIMEOUT_MILLIS);
        byte[] first = accepted.getInputStream().readNBytes(2);
        SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(accepted, new ByteArrayInputStream(first), true);
        s.setNeedClientAuth(trust != null);
        try {
            s.startHandshake();
        } catch (IOException e) {
            if (first.length == 2 && opensSmuxFrame(first[0], first[1])) {
                throw new PlainPeer("the peer sent plain smux to this TLS port: start it with --tls, or this end without --tls", e);
            }
            throw e;
        }
        s.setSoTimeout(0);
        return s;
    }

    /** VER 1 or 2 and a command xtaci/smux or this library sends (SYN, FIN, PSH, NOP, UPD, VRM). */
    private static boolean opensSmuxFrame(byte ver, byte cmd) {
        return (ver == 1 || ver == 2) && (cmd >= 0 && cmd <= 4 || cmd == 0x7F);
    }

    /**
     * Client side: connects, and with TLS, handshakes and verifies the server's name.
     *
     * @throws HandshakeCut if the server ended the handshake without a TLS word (it may be a plain server)
     * @throws IOException if the connection or the handshake failed otherwise
     */
    Socket dial(InetSocketAddress to, String host, int connectTimeoutMillis) throws IOException {
        Socket raw = new Socket();
        try {
            raw.connect(to, connectTimeoutMillis);
            if (context == null) {
                return raw;
            }
            SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(raw, host, to.getPort(), true);
            SSLParameters p = s.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            s.setSSLParameters(p);
            s.setSoTimeout(HANDSHAKE_TIMEOUT_MILLIS);
            try {
                s.startHandshake();
            } catch (IOException e) {
                String m = "TLS handshake failed: " + Log.describe(e);
                throw cutShort(e) ? new HandshakeCut(m, e) : new IOException(m, e);
            }
            s.setSoTimeout(0);
            return s;
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    /** The server hung up (end of stream, reset) instead of answering with TLS, as a plain smux server does. */
    private static boolean cutShort(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.io.EOFException || t instanceof java.net.SocketException) {
                return true;
            }
        }
        return String.valueOf(e.getMessage()).contains("Remote host terminated the handshake");
    }

    /** Client side: the server ended the TLS handshake without a TLS word, as a plain server does. */
    static final class HandshakeCut extends IOException {
        private static final long serialVersionUID = 1L;

        HandshakeCut(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Server side: the peer sent a plain smux frame where a TLS ClientHello belongs. */
    static final class PlainPeer extends IOException {
        private static final long serialVersionUID = 1L;

        PlainPeer(String message, Throwable cause) {
            super(message, cause);
        }
    }

    // ------------------------------------------------------------------ files

    private static char[] password() {
        String p = System.getenv(PASSWORD_VARIABLE);
        return p == null ? new char[0] : p.toCharArray();
    }

    private static KeyStore keyStore(CommandSpec spec, String flag, Path file, boolean needKey) throws GeneralSecurityException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw Flags.bad(spec, flag, "cannot read " + file + ": " + Log.describe(e));
        }
        KeyStore ks = KeyStore.getInstance("PKCS12");
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        if (text.contains("-----BEGIN ")) {
            try {
                ks.load(null, null);
            } catch (IOException e) {
                throw new GeneralSecurityException(e);
            }
            fromPem(spec, flag, file, text, ks, needKey);
        } else {
            try (InputStream in = new ByteArrayInputStream(bytes)) {
                ks.load(in, password());
            } catch (IOException e) {
                throw Flags.bad(spec, flag, "cannot open " + file + " as PKCS12 (" + Log.describe(e) + "); "
                        + (System.getenv(PASSWORD_VARIABLE) == null ? PASSWORD_VARIABLE + " is not set: set it to the file's password"
                        : "is " + PASSWORD_VARIABLE + " its password?"));
            }
        }
        if (needKey && !hasKey(ks)) {
            throw Flags.bad(spec, flag, file + " holds no private key");
        }
        if (ks.size() == 0) {
            throw Flags.bad(spec, flag, file + " holds no certificate");
        }
        return ks;
    }

    private static boolean hasKey(KeyStore ks) throws GeneralSecurityException {
        for (String alias : java.util.Collections.list(ks.aliases())) {
            if (ks.isKeyEntry(alias)) {
                return true;
            }
        }
        return false;
    }

    private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([^-]+)-----END \\1-----");

    private static void fromPem(CommandSpec spec, String flag, Path file, String text, KeyStore ks, boolean needKey)
            throws GeneralSecurityException {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        List<Certificate> certs = new ArrayList<>();
        PrivateKey privateKey = null;
        Matcher m = PEM.matcher(text);
        while (m.find()) {
            byte[] der = Base64.getMimeDecoder().decode(m.group(2));
            switch (m.group(1)) {
                case "CERTIFICATE" -> certs.add(cf.generateCertificate(new ByteArrayInputStream(der)));
                case "PRIVATE KEY" -> privateKey = pkcs8(spec, flag, file, der);
                default -> throw Flags.bad(spec, flag, file + ": a '" + m.group(1) + "' block is not supported; give an "
                        + "unencrypted PKCS#8 key (openssl pkcs8 -topk8 -nocrypt) or a PKCS12 file");
            }
        }
        if (needKey) {
            if (privateKey == null || certs.isEmpty()) {
                throw Flags.bad(spec, flag, file + " must hold a PRIVATE KEY and its CERTIFICATE chain");
            }
            ks.setKeyEntry("key", privateKey, password(), certs.toArray(new Certificate[0]));
        } else {
            for (int i = 0; i < certs.size(); i++) {
                ks.setCertificateEntry("trusted-" + i, certs.get(i));
            }
        }
    }

    private static PrivateKey pkcs8(CommandSpec spec, String flag, Path file, byte[] der) {
        for (String algorithm : new String[] {"RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS", "DSA"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException | RuntimeException e) {
                // not this algorithm: try the next
            }
        }
        throw Flags.bad(spec, flag, file + ": the PRIVATE KEY is not an RSA, EC, EdDSA or DSA key this JDK reads");
    }
}
