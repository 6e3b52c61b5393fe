package smux.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import smux.api.Session;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;

/**
 * {@code --stall-log}: {@code serve} and the tunnel server log one line for a stream stalled past
 * the time given, naming the cause: a client that writes and never reads the echo makes
 * {@code serve}'s echo wait for the client's window (and then leave the client's bytes unread); a
 * target that never reads makes the tunnel server hold the client's bytes unread.
 */
class StallLogIT {
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : cleanup) {
            c.close();
        }
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
    }

    private <T extends AutoCloseable> T keep(T c) {
        cleanup.add(0, c);
        return c;
    }

    @Test
    @Timeout(90)
    void serveNamesAStreamThatWaitsForThePeersWindow() throws Exception {
        Cli serve = keep(Cli.start("serve", "--listen", "127.0.0.1:0", "--stall-log", "1"));
        int port = Cli.port(serve.awaitLine("listening on", 30));
        Session client = keep(Smux.connect(new InetSocketAddress("127.0.0.1", port), SmuxConfig.defaults()));
        SmuxStream stream = client.openStream();
        pool.execute(() -> {
            try {
                stream.write(ByteBuffer.wrap(new byte[1 << 20])); // echoed into a window nobody reads
            } catch (java.io.IOException ignored) {
                // the session closes at the end of the test
            }
        });
        // The echo's writes wait for the client's window, and so serve's echo stops reading: whichever of the
        // two stalls is the older when the watch looks is named (both are this scenario's, the window first)
        String line = serve.awaitLine("stalled for", 30);
        assertTrue(line.contains("stream " + stream.id()) && line.contains("--stall-log")
                && (line.contains("wait for the peer's window") || line.contains("wait unread here")), line);
    }

    @Test
    @Timeout(90)
    void theTunnelServerNamesBytesItsTargetDoesNotTake() throws Exception {
        ServerSocket target = keep(new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress()));
        List<Socket> accepted = new ArrayList<>();
        pool.execute(() -> {
            try {
                while (true) {
                    Socket s = target.accept(); // and never read: the target's socket fills
                    synchronized (accepted) {
                        accepted.add(s);
                    }
                }
            } catch (java.io.IOException ignored) {
                // closed at the end of the test
            }
        });
        Cli server = keep(Cli.start("tunnel", "server", "--listen", "127.0.0.1:0", "--target",
                "127.0.0.1:" + target.getLocalPort(), "--stall-log", "1"));
        int port = Cli.port(server.awaitLine("listening on", 30));
        Session client = keep(Smux.connect(new InetSocketAddress("127.0.0.1", port), SmuxConfig.defaults()));
        SmuxStream stream = client.openStream();
        pool.execute(() -> {
            try {
                stream.write(ByteBuffer.wrap(new byte[16 << 20]));
            } catch (java.io.IOException ignored) {
                // the session closes at the end of the test
            }
        });
        String line = server.awaitLine("stalled for", 60);
        assertTrue(line.contains("stream " + stream.id()) && line.contains("wait unread here"), line);
        synchronized (accepted) {
            for (Socket s : accepted) {
                s.close();
            }
        }
    }
}
