package smux.it.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import smux.api.Session;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.it.interop.GoPeer.Release;
import smux.it.interop.GoPeer.StreamReport;

/**
 * What close promises, against Go (issue 18). A Go xtaci/smux reader that pauses for 2 s after it
 * accepts a stream (a GC pause, a slow disk: {@code -read-delay}); the Java client writes 32 MiB
 * with a 300 ms write timeout, which fires part-way, and closes the stream and the session at
 * once, with the default {@code closeTimeout}. Every byte the timed-out write reported as
 * committed must reach the Go reader, and the close must be silent (it throws
 * {@code AbandonedBytesException} when it gives bytes up).
 *
 * <p>With the old default (1 s), version 1 lost 32-224 KiB in 29 of 80 such runs: the close gave
 * up before the reader woke. Version 2 commits at most the peer's window (256 KiB before the first
 * window update), which the kernel's buffers hold, so it lost nothing even then.
 *
 * <p>Each case runs {@link #RUNS} sessions at once (each its own connection, stream and Go
 * handler), so the 20 runs cost one pause, not twenty.
 */
class CloseInteropTest {
    static final int RUNS = Integer.getInteger("smux.it.closeRuns", 20);
    static final Duration READ_DELAY = Duration.ofSeconds(2);
    static final Duration WRITE_TIMEOUT = Duration.ofMillis(300);
    /** Shared by every run's write: only the count matters, and 20 copies of 32 MiB would not fit the heap. */
    static final byte[] PAYLOAD = new byte[32 << 20];

    static List<Combo> cases() {
        return Combo.where(c -> c.release() == Release.V1_5_16 && c.javaIsClient());
    }

    /** What one run saw on the Java side. */
    record Run(int localPort, long committed, long closeMillis) {
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    @Timeout(120)
    void aReaderThatPausesLongerThanTheWriteTimeoutGetsEveryCommittedByte(Combo c) throws Exception {
        SmuxConfig config = c.javaConfig().build();
        assertTrue(config.closeTimeout().compareTo(READ_DELAY.multipliedBy(2)) >= 0, "the premise: the default "
                + "closeTimeout (" + config.closeTimeout() + ") outlasts a reader's pause of " + READ_DELAY + " with room to spare");
        try (GoPeer server = GoPeer.server(c.release(), "-version", Integer.toString(c.protocol()), "-mode", "discard",
                "-read-delay", READ_DELAY.toMillis() + "ms", "-no-hash")) {
            List<FutureTask<Run>> runs = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < RUNS; i++) {
                FutureTask<Run> run = new FutureTask<>(() -> writeThenClose(server.address(), config));
                Thread t = new Thread(run, "close-interop-run-" + i);
                t.start();
                runs.add(run);
                threads.add(t);
            }
            long committedInAll = 0;
            long slowestClose = 0;
            for (FutureTask<Run> f : runs) {
                Run run = f.get(60, TimeUnit.SECONDS); // a close that gave bytes up threw: it fails here
                StreamReport got = goStreamOf(server, run.localPort());
                assertEquals("", got.err(), c + ": the Go reader failed" + server.diagnostics());
                assertEquals(run.committed(), got.bytesIn(), c + ": bytes the Go reader received vs bytes the write committed "
                        + "(run on local port " + run.localPort() + ")" + server.diagnostics());
                committedInAll += run.committed();
                slowestClose = Math.max(slowestClose, run.closeMillis());
            }
            for (Thread t : threads) {
                t.join(5_000);
            }
            GoPeer.log(String.format(Locale.ROOT, "CloseInteropTest %s: %d runs, received == committed in every one, "
                    + "%.1f MiB committed in all, slowest close %d ms", c, RUNS, committedInAll / 1048576.0, slowestClose));
        }
    }

    /** One run: a stream, a write that times out part-way, then close the stream and the session at once. */
    private static Run writeThenClose(InetSocketAddress server, SmuxConfig config) throws Exception {
        Session session = Smux.connect(server, config);
        int port = ((InetSocketAddress) session.localAddress().orElseThrow()).getPort();
        SmuxStream stream = session.openStream();
        stream.setWriteTimeout(WRITE_TIMEOUT);
        long committed;
        try {
            stream.write(ByteBuffer.wrap(PAYLOAD));
            session.close();
            fail("32 MiB went through within " + WRITE_TIMEOUT.toMillis() + " ms although the reader pauses for " + READ_DELAY);
            return null;
        } catch (SocketTimeoutException e) {
            committed = e.bytesTransferred;
        }
        assertTrue(committed > 0, "the write committed something before its timeout");
        long start = System.nanoTime();
        stream.close();
        session.close(); // throws AbandonedBytesException if it gave committed bytes up
        return new Run(port, committed, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    }

    /** The Go side's stream of the session whose remote end is our {@code localPort}. */
    private static StreamReport goStreamOf(GoPeer server, int localPort) {
        Event session = server.awaitEvent(e -> e.name().equals("session") && e.str("remote").endsWith(":" + localPort),
                Duration.ofSeconds(30), "the Go session of local port " + localPort);
        int number = (int) session.num("session");
        return server.awaitStreams(number, 1, Duration.ofSeconds(30)).get(0);
    }
}
