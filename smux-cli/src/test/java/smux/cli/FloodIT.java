package smux.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
 * Issue 14, the command's half: peers that open many streams and never read cost {@code serve}
 * and the tunnel server a bounded number of threads, and neither the accept loop nor the healthy
 * sessions; even running out of memory closes sessions, never the process.
 */
class FloodIT {
    /** Threads a JVM of the command runs before any session (main, GC, JIT, signal, ...), with room. */
    private static final long BASE_THREADS = 40;

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
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void serveSpendsBoundedThreadsOnFloodsAndStillServesHealthyClients() throws Exception {
        // The bounded pool of platform threads on every JDK: Java 21+ would serve on virtual threads,
        // 1,024 streams per session by default, and the flood's 512 per session would be refused nothing.
        Cli serve = keep(Cli.start(List.of("-Xmx256m"), Map.of(), "serve", "--listen", "127.0.0.1:0", "--max-threads", "128",
                "--platform-threads"));
        int port = Cli.port(serve.awaitLine("listening on", 30));
        flood(serve, port);
        echoes(port);
        assertTrue(serve.process.isAlive(), serve.output());
    }

    @Test
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void theTunnelServerToo() throws Exception {
        ServerSocket target = keep(Targets.echo(pool));
        Cli server = keep(Cli.start(List.of("-Xmx256m"), Map.of(), "tunnel", "server", "--listen", "127.0.0.1:0",
                "--target", "127.0.0.1:" + target.getLocalPort(), "--max-threads", "128", "--max-streams", "8"));
        int port = Cli.port(server.awaitLine("listening on", 30));
        flood(server, port);
        echoes(port);
        assertTrue(server.process.isAlive(), server.output());
    }

    /**
     * Issue 14, the library's half: with the default memory budget (a quarter of the heap, shared
     * by every session, each holding at most what stays free for the others) the flood of the
     * issue (connections that open 1,024 streams, send each the 256 KiB a version 2 peer may send
     * before any window update, and never read) cannot take the heap: the server refuses streams
     * instead, the heap in use stays within the budget, healthy clients are served byte-exact,
     * and the memory comes back when the hostile connections close.
     */
    @Test
    @Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void theDefaultMemoryBudgetHoldsTheFloodWithinTheHeap() throws Exception {
        Cli serve = keep(Cli.start(List.of("-Xmx256m"), Map.of(), "serve", "--listen", "127.0.0.1:0"));
        budgetHoldsTheFlood(serve, "serve");
    }

    @Test
    @Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void theDefaultMemoryBudgetHoldsTheFloodWithinTheTunnelServersHeap() throws Exception {
        ServerSocket target = keep(Targets.echo(pool));
        Cli server = keep(Cli.start(List.of("-Xmx256m"), Map.of(), "tunnel", "server", "--listen", "127.0.0.1:0",
                "--target", "127.0.0.1:" + target.getLocalPort()));
        budgetHoldsTheFlood(server, "tunnel server");
    }

    private void budgetHoldsTheFlood(Cli serve, String what) throws Exception {
        int port = Cli.port(serve.awaitLine("listening on", 30));
        echoes(port); // warm: every class a session needs is loaded
        long baseline = serve.heapAfterGc();
        long budget = 64L << 20; // a quarter of -Xmx256m
        List<Flood> floods = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                floods.add(Flood.start(port, 1024, 256 * 1024));
            }
            long used = serve.heapAfterGc() - baseline;
            System.out.printf("[flood] %s: 4 x 1024 streams x 256 KiB, never read, -Xmx256m: heap held %d MiB (budget %d MiB),"
                    + " threads %d, RSS %d MiB%n", what, used >> 20, budget >> 20, serve.threads(), serve.rss() >> 20);
            assertTrue(used <= budget + (budget >> 2), "the flood holds " + (used >> 20) + " MiB of heap; the budget is "
                    + (budget >> 20) + " MiB (and a quarter for the streams' own objects)\n" + serve.output());
            echoes(port); // a healthy client still gets its streams, served byte-exact
            assertTrue(serve.process.isAlive(), serve.output());
            assertTrue(!serve.output().contains("out of memory"), serve.output());
        } finally {
            for (Flood f : floods) {
                f.close();
            }
        }
        String[] ends = floods.stream().map(f -> "session from 127.0.0.1:" + f.localPort() + " ended").toArray(String[]::new);
        serve.awaitOutput(60, ends);
        long after = serve.heapAfterGc() - baseline;
        System.out.printf("[flood] %s: after the hostile connections closed: heap held %d MiB, threads %d%n", what,
                after >> 20, serve.threads());
        assertTrue(after < (8L << 20), "released when the hostile connections closed: " + (after >> 20) + " MiB still held");
        echoes(port);
    }

    @Test
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void runningOutOfMemoryClosesSessionsNeverTheProcess() throws Exception {
        // 64 MiB of heap; each flood connection leaves up to 128 streams x 256 KiB = 32 MiB unread. The
        // memory budget is what keeps this from happening by default (see the test above): here it is set
        // far beyond the heap, to reach the last line of defence, the accept loop surviving OutOfMemoryError.
        // --max-streams 128 keeps serve's cap of before issue 20: with 1,023 streams served per session, a
        // session whose threads died of it held the 64 MiB heap past this test's 45 s (an open problem:
        // see the issue 20 report; the budget, unlike here, prevents it).
        Cli serve = keep(Cli.start(List.of("-Xmx64m", "-Dsmux.memoryBudget=4g"), Map.of(), "serve", "--listen", "127.0.0.1:0",
                "--max-threads", "2048", "--platform-threads", "--max-streams", "128"));
        int port = Cli.port(serve.awaitLine("listening on", 30));
        List<Flood> floods = new ArrayList<>();
        try {
            for (int i = 0; i < 6 && !serve.output().contains("out of memory"); i++) {
                try {
                    floods.add(Flood.start(port, 1024, 256 * 1024));
                } catch (IOException e) {
                    // the listener is gone: say whether the process is on its way out, and how it ended
                    boolean ended = serve.process.waitFor(15, TimeUnit.SECONDS);
                    throw new AssertionError("flood " + (i + 1) + " could not connect (" + e + "); the process "
                            + (ended ? "ended, exit " + serve.process.exitValue() : "is alive 15 s later")
                            + "; its output:\n" + serve.output(), e);
                }
            }
            serve.awaitOutput(60, "out of memory");
            assertTrue(serve.process.isAlive(), "the process survived: " + serve.output());
        } finally {
            for (Flood f : floods) {
                f.close();
            }
        }
        // Once the hostile connections are gone the memory comes back (a session whose reader thread
        // died of it is closed by its keepalive at the latest): healthy clients are served again.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(45);
        while (true) {
            try (Cli probe = Cli.quick("probe", "127.0.0.1:" + port)) {
                if (probe.exitCode(60) == 0) {
                    break;
                }
                assertTrue(System.nanoTime() < deadline, "no healthy session after the flood: " + probe.output()
                        + "\nserver:\n" + serve.output());
            }
        }
        echoes(port);
        assertTrue(serve.process.isAlive(), serve.output());
    }

    /** Four connections of 512 streams with 16 KiB each, never read; the threads stay within the pool's bound. */
    private void flood(Cli server, int port) throws Exception {
        List<Flood> floods = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                floods.add(Flood.start(port, 512, 16 * 1024));
            }
            server.awaitLine("refusing streams", 30); // a session reached its share of the threads
            long limit = 128 + 2L * floods.size() + BASE_THREADS; // the pool, each session's transport threads, the JVM's own
            long threads = server.threads();
            assertTrue(threads <= limit, threads + " threads for 4 x 512 streams; the bound is " + limit);
            echoes(port); // healthy sessions are served while the floods hold their share
        } finally {
            for (Flood f : floods) {
                f.close();
            }
        }
        String[] ends = floods.stream().map(f -> "session from 127.0.0.1:" + f.localPort() + " ended").toArray(String[]::new);
        server.awaitOutput(30, ends); // each hostile session is closed and reported
    }

    /** A healthy client session: three streams echo 256 KiB each, byte-exact. */
    private void echoes(int port) throws Exception {
        SmuxConfig config = SmuxConfig.builder().transport("socket").build();
        try (Session s = Smux.connect(new InetSocketAddress("127.0.0.1", port), config)) {
            for (int i = 0; i < 3; i++) {
                byte[] data = Targets.data(256 * 1024, i);
                try (SmuxStream stream = s.openStream()) {
                    stream.setReadTimeout(Duration.ofSeconds(30));
                    stream.setWriteTimeout(Duration.ofSeconds(30));
                    // the reader on a thread of its own: the common pool may queue it behind another task
                    java.util.concurrent.Future<byte[]> back = pool.submit(() -> stream.inputStream().readAllBytes());
                    stream.outputStream().write(data);
                    stream.closeWrite();
                    assertEquals(Targets.sha(data), Targets.sha(back.get(30, TimeUnit.SECONDS)), "stream " + i + " echoed byte-exact");
                }
            }
        }
    }
}
