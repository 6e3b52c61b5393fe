package smux.it.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import smux.api.Session;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.it.OwnThreads;

/**
 * A session over TLS: the socket transport drives any connected {@link java.net.Socket} through
 * its streams, so an {@link SSLSocket} carries a session; the NIO transport needs a
 * {@link java.nio.channels.SocketChannel}, which an SSLSocket does not have, and says so.
 */
class TlsTest {
    private static final char[] PASSWORD = "smux-test".toCharArray();

    @TempDir
    static Path dir;
    static SSLContext tls;

    /** A self-signed key for 127.0.0.1, made with the JDK's keytool (a missing keytool fails the test). */
    @BeforeAll
    static void makeKey() throws Exception {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        assertTrue(Files.isExecutable(keytool), "keytool is part of every JDK; not found at " + keytool);
        Path store = dir.resolve("key.p12");
        Process p = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "smux", "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", "CN=smux test", "-ext", "SAN=ip:127.0.0.1", "-validity", "2",
                "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", new String(PASSWORD))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "keytool failed: " + out);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(store.toFile())) {
            ks.load(in, PASSWORD);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, PASSWORD);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks); // each end trusts exactly this certificate
        tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    }

    @Test
    @Timeout(60)
    void aSessionOverTlsCarriesDataBothWaysOnManyStreams() throws Exception {
        SmuxConfig config = SmuxConfig.builder().transport("socket").build();
        try (SSLServerSocket listener = (SSLServerSocket) tls.getServerSocketFactory().createServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            listener.setNeedClientAuth(true);
            CompletableFuture<Session> server = OwnThreads.supply(() -> {
                try {
                    SSLSocket accepted = (SSLSocket) listener.accept();
                    accepted.startHandshake();
                    return Smux.server(accepted, config);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
            socket.startHandshake();
            try (Session client = Smux.client(socket, config); Session s = server.get(10, TimeUnit.SECONDS)) {
                assertEquals("socket", client.transport());
                List<CompletableFuture<Void>> echoes = new java.util.ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    echoes.add(OwnThreads.run(() -> echoOne(s)));
                }
                for (int i = 0; i < 3; i++) {
                    byte[] data = Bytes.random(1 << 20, i);
                    SmuxStream stream = client.openStream();
                    CompletableFuture<String[]> back = OwnThreads.supply(() -> {
                        try {
                            return Bytes.drain(stream.inputStream());
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
                    stream.outputStream().write(data);
                    stream.closeWrite();
                    String[] got = back.get(30, TimeUnit.SECONDS);
                    assertEquals(Bytes.sha256(data), got[0], "stream " + i + " echoed byte-exact over TLS");
                    stream.close();
                }
                for (CompletableFuture<Void> e : echoes) {
                    e.get(10, TimeUnit.SECONDS);
                }
                assertTrue(client.drain(Duration.ofSeconds(5)), "the client's streams had all finished");
                assertTrue(Bytes.await(5000, s::isClosed), "the server sees the TLS connection end");
                assertTrue(s.closeCause().map(e -> e.getMessage().contains("peer closed")).orElse(false),
                        "ended as a peer close, not an error: " + s.closeCause());
            }
        }
    }

    @Test
    @Timeout(30)
    void theNioTransportRefusesAnSslSocketAndSaysWhy() throws Exception {
        try (SSLServerSocket listener = (SSLServerSocket) tls.getServerSocketFactory().createServerSocket(0, 5, InetAddress.getLoopbackAddress());
             SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), listener.getLocalPort())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Smux.client(socket, SmuxConfig.builder().transport("nio").build()));
            assertTrue(e.getMessage().contains("socket transport"), e.getMessage());
        }
    }

    private static void echoOne(Session s) {
        try (SmuxStream stream = s.acceptStream(Duration.ofSeconds(10))) {
            stream.inputStream().transferTo(stream.outputStream());
            stream.closeWrite();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
