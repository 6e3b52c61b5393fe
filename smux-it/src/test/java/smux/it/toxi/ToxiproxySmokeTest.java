package smux.it.toxi;

import eu.rekawek.toxiproxy.ToxiproxyClient;
import eu.rekawek.toxiproxy.model.ToxicDirection;
import eu.rekawek.toxiproxy.model.toxic.Bandwidth;
import eu.rekawek.toxiproxy.model.toxic.Slicer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Proves the Toxiproxy infrastructure works end to end with a real server: a plain TCP echo server behind a
 * proxy, each toxic later fault-injection tests rely on observed from the client side.
 */
@ExtendWith(ToxiproxyExtension.class)
class ToxiproxySmokeTest {

    private static final Duration IO_TIMEOUT = Duration.ofSeconds(10);

    private EchoServer echo;
    private ProxyHandle proxy;

    @BeforeEach
    void startEchoBehindProxy(ToxiproxyBackend toxiproxy) throws IOException {
        echo = EchoServer.start();
        proxy = toxiproxy.createProxy("echo", echo.host(), echo.port());
    }

    @AfterEach
    void stopEcho() throws IOException {
        echo.close();
    }

    @Test
    @Timeout(30)
    void serverIsThePinnedToxiproxyRelease(ToxiproxyClient client) throws IOException {
        String version = client.version();
        assertTrue(version.contains(ToxiproxyBackend.TOXIPROXY_VERSION),
                () -> "expected Toxiproxy " + ToxiproxyBackend.TOXIPROXY_VERSION + ", server says " + version);
        assertEquals(1, client.getProxies().size(), "the extension leaves only this test's proxy");
    }

    @Test
    @Timeout(30)
    void bytesPassThroughIntact() throws Exception {
        byte[] sent = randomBytes(256 * 1024, 1);
        try (Socket socket = connect()) {
            CompletableFuture<Void> writer = writeAsync(socket, sent);
            byte[] received = readExactly(socket.getInputStream(), sent.length);
            writer.get(IO_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            assertArrayEquals(sent, received);
        }
        assertEquals(sent.length, echo.bytesReceived());
    }

    /**
     * Minimum round trips on one connection, before and after adding the toxic. Toxiproxy delays each chunk
     * by the latency counted from when it read the chunk, so the round trip grows by the latency plus timer
     * slack, minus only the microseconds between reading and the toxic (measured on this machine: +100.3 to
     * +100.6 ms over 40 runs); minima keep scheduling noise out of both sides.
     */
    @Test
    @Timeout(30)
    void latencyToxicRaisesRoundTripByAtLeastItsLatency() throws Exception {
        long latencyMillis = 100;
        try (Socket socket = connect()) {
            long baseline = minRoundTripNanos(socket, 20);
            proxy.toxics().latency("latency", ToxicDirection.DOWNSTREAM, latencyMillis);
            long delayed = minRoundTripNanos(socket, 5);
            long addedMillis = TimeUnit.NANOSECONDS.toMillis(delayed - baseline);
            assertTrue(addedMillis >= latencyMillis, () -> String.format(
                    "round trip %.2f ms with a %d ms latency toxic vs %.2f ms without: +%d ms",
                    delayed / 1e6, latencyMillis, baseline / 1e6, addedMillis));
        }
    }

    /**
     * A bandwidth toxic of rate 0 holds data and hands it on when removed. (A timeout toxic of 0 also stalls
     * a transfer, but it drops what it holds and closes the connection when removed, so it cannot show
     * "resumes with no byte lost".)
     */
    @Test
    @Timeout(30)
    void zeroBandwidthStallsTheTransferAndRemovingItResumesWithNoByteLost() throws Exception {
        byte[] sent = randomBytes(32 * 1024, 2);
        Bandwidth stall = proxy.toxics().bandwidth("stall", ToxicDirection.DOWNSTREAM, 0);
        try (Socket socket = connect()) {
            CompletableFuture<Void> writer = writeAsync(socket, sent);
            // Upstream is untouched, so everything reaches the echo server; its echo is what stalls.
            Await.until(IO_TIMEOUT, () -> echo.bytesReceived() == sent.length,
                    () -> "echo server received " + echo.bytesReceived() + " of " + sent.length + " bytes");
            writer.get(IO_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);

            socket.setSoTimeout(500);
            assertThrows(SocketTimeoutException.class, () -> socket.getInputStream().read(),
                    "no echoed byte may get through a bandwidth toxic of rate 0");

            stall.remove();
            assertArrayEquals(sent, readExactly(socket.getInputStream(), sent.length));
        }
    }

    @Test
    @Timeout(30)
    void resetPeerToxicResetsTheClientConnection() throws Exception {
        // Toxiproxy sets SO_LINGER 0 (close = RST) only on connections made while a reset_peer toxic exists.
        proxy.toxics().resetPeer("reset", ToxicDirection.DOWNSTREAM, 0);
        try (Socket socket = connect()) {
            socket.getOutputStream().write("ping".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            SocketException reset = assertThrows(SocketException.class, () -> readExactly(socket.getInputStream(), 4));
            assertTrue(String.valueOf(reset.getMessage()).toLowerCase(java.util.Locale.ROOT).contains("reset"),
                    () -> "expected a connection reset, got " + reset);
        }
    }

    @Test
    @Timeout(30)
    void limitDataClosesTheConnectionAfterTheLimit() throws Exception {
        int limit = 100;
        byte[] sent = randomBytes(1_000, 3);
        proxy.toxics().limitData("limit", ToxicDirection.DOWNSTREAM, limit);
        try (Socket socket = connect()) {
            socket.getOutputStream().write(sent);
            socket.getOutputStream().flush();
            byte[] received = readToEnd(socket.getInputStream());
            assertArrayEquals(Arrays.copyOf(sent, limit), received,
                    "exactly the first " + limit + " bytes, then end of stream");
        }
    }

    @Test
    @Timeout(30)
    void slicerDeliversEverythingIntact() throws Exception {
        byte[] sent = randomBytes(32 * 1024, 4);
        Slicer slicer = proxy.toxics().slicer("slicer", ToxicDirection.DOWNSTREAM, 32, 10);
        slicer.setSizeVariation(16);
        try (Socket socket = connect()) {
            CompletableFuture<Void> writer = writeAsync(socket, sent);
            byte[] received = readExactly(socket.getInputStream(), sent.length);
            writer.get(IO_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            assertArrayEquals(sent, received);
        }
    }

    private Socket connect() throws IOException {
        Socket socket = proxy.connect();
        socket.setTcpNoDelay(true);
        socket.setSoTimeout((int) IO_TIMEOUT.toMillis());
        return socket;
    }

    /** The fastest of {@code rounds} one-byte echo round trips, after a warm-up. */
    private static long minRoundTripNanos(Socket socket, int rounds) throws IOException {
        OutputStream out = socket.getOutputStream();
        InputStream in = socket.getInputStream();
        long min = Long.MAX_VALUE;
        for (int i = -3; i < rounds; i++) {
            long start = System.nanoTime();
            out.write(i & 0x7f);
            out.flush();
            if (in.read() < 0) {
                throw new IOException("end of stream during a round trip");
            }
            long took = System.nanoTime() - start;
            if (i >= 0) {
                min = Math.min(min, took);
            }
        }
        return min;
    }

    private static CompletableFuture<Void> writeAsync(Socket socket, byte[] data) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread writer = new Thread(() -> {
            try {
                OutputStream out = socket.getOutputStream();
                for (int off = 0; off < data.length; off += 8192) {
                    out.write(data, off, Math.min(8192, data.length - off));
                }
                out.flush();
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        }, "smoke-writer");
        writer.setDaemon(true);
        writer.start();
        return done;
    }

    private static byte[] readExactly(InputStream in, int length) throws IOException {
        byte[] data = new byte[length];
        int off = 0;
        while (off < length) {
            int n = in.read(data, off, length - off);
            if (n < 0) {
                throw new IOException("end of stream after " + off + " of " + length + " bytes");
            }
            off += n;
        }
        return data;
    }

    private static byte[] readToEnd(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[4096];
        int n;
        while ((n = in.read(buffer)) >= 0) {
            out.write(buffer, 0, n);
        }
        return out.toByteArray();
    }

    private static byte[] randomBytes(int length, long seed) {
        byte[] data = new byte[length];
        new Random(seed).nextBytes(data);
        return data;
    }
}
