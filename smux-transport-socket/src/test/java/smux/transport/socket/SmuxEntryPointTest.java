package smux.transport.socket;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import smux.api.Session;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;

/** The entry point with the socket transport on the module path, found by ServiceLoader. */
@Timeout(20)
class SmuxEntryPointTest {
    /** Each blocking party on a thread of its own: the common pool may queue it behind another. */
    private static final Executor OWN_THREAD = task -> {
        Thread t = new Thread(task, "test-peer");
        t.setDaemon(true);
        t.start();
    };

    private static final SmuxConfig CONFIG = SmuxConfig.builder().probeTimeout(Duration.ofSeconds(5)).build();

    private ServerSocket listener;

    @BeforeEach
    void listen() throws IOException {
        listener = new ServerSocket(0, 4, InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void close() throws IOException {
        listener.close();
    }

    @Test
    void serviceLoaderFindsTheSocketTransport() {
        assertEquals(List.of("socket"), Smux.transports());
    }

    @Test
    void clientAndServerOverSocketsUseIt() throws Exception {
        try (Socket dialed = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
             Socket accepted = listener.accept();
             Session client = Smux.client(dialed, CONFIG);
             Session server = Smux.server(accepted, CONFIG)) {
            assertEquals("socket", client.transport());
            assertTrue(client.isClient());
            assertFalse(server.isClient());
            echo(client, server);
        }
    }

    @Test
    void connectDialsAndStartsAClient() throws Exception {
        CompletableFuture<Session> server = serveOne();
        try (Session client = Smux.connect(listener.getLocalSocketAddress(), CONFIG);
             Session serverSession = server.get(5, TimeUnit.SECONDS)) {
            assertEquals(listener.getLocalSocketAddress(), client.remoteAddress().orElseThrow());
            echo(client, serverSession);
        }
    }

    @Test
    void isSmuxByAddressAsksARealSession() throws Exception {
        CompletableFuture<Session> server = serveOne();

        assertTrue(Smux.isSmux(listener.getLocalSocketAddress(), CONFIG));

        server.get(5, TimeUnit.SECONDS).close();
    }

    @Test
    void isSmuxByAddressSaysNoForAPeerThatHangsUp() throws Exception {
        CompletableFuture<Void> hangUp = CompletableFuture.runAsync(() -> {
            try {
                listener.accept().close();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }, OWN_THREAD);

        assertFalse(Smux.isSmux(listener.getLocalSocketAddress(), CONFIG));
        hangUp.get(5, TimeUnit.SECONDS);
    }

    @Test
    void connectToAClosedPortFailsWithTheConnectError() throws IOException {
        ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        closed.close();
        assertThrows(java.net.ConnectException.class, () -> Smux.connect(closed.getLocalSocketAddress(), CONFIG));
    }

    private CompletableFuture<Session> serveOne() {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return Smux.server(listener.accept(), CONFIG);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }, OWN_THREAD);
    }

    private static void echo(Session client, Session server) throws IOException {
        try (SmuxStream out = client.openStream()) {
            out.outputStream().write("ping".getBytes(US_ASCII));
            out.closeWrite();
            try (SmuxStream in = server.acceptStream(Duration.ofSeconds(5))) {
                assertArrayEquals("ping".getBytes(US_ASCII), in.inputStream().readAllBytes());
            }
        }
    }
}
