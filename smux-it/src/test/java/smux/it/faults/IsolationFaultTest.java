package smux.it.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import eu.rekawek.toxiproxy.model.ToxicDirection;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.it.toxi.Await;
import smux.it.toxi.ToxiproxyBackend;
import smux.it.toxi.ToxiproxyExtension;

/**
 * Guarantee 1 over a bandwidth-limited link ({@value #RATE_KBPS} KB/s each way, a real Toxiproxy
 * {@code bandwidth} toxic): stream A's peer writes to it as hard as it can and A is never read; another stream
 * keeps moving at no less than {@value #MIN_SHARE_PERCENT}% of the rate the same link gives a stream alone
 * (measured first, in the same test), and A's backlog never exceeds the window xtaci's sender assumes before
 * any read ({@link SmuxConfig#INITIAL_PEER_WINDOW}). Version 1 has no per-stream window and cannot give this:
 * {@link #versionOneDoesStallTheOtherStreams} shows that it does not.
 */
@ExtendWith(ToxiproxyExtension.class)
class IsolationFaultTest {
    static final long RATE_KBPS = 4000;
    static final int MIN_SHARE_PERCENT = 80;
    static final long TRANSFER = 6L << 20;

    @ParameterizedTest(name = "{0} v2")
    @MethodSource("smux.it.faults.Faults#transports")
    @Timeout(60)
    void anUnreadStreamNeverSlowsAnotherOverALimitedLink(String transport, ToxiproxyBackend toxiproxy) throws Exception {
        ExecutorService pool = Faults.pool("fault-isolation", 0);
        SmuxConfig config = SmuxConfig.builder().transport(transport).version(2).build();
        try (ProxiedPair pair = ProxiedPair.open(toxiproxy, "isolation-" + transport, config)) {
            pair.proxy.toxics().bandwidth("link-up", ToxicDirection.UPSTREAM, RATE_KBPS);
            pair.proxy.toxics().bandwidth("link-down", ToxicDirection.DOWNSTREAM, RATE_KBPS);
            Pattern pattern = new Pattern(11);

            // Baseline: one stream alone on the link.
            double alone = transferRate(pair, pattern, pool, 1);

            // A: its peer floods it; nobody on this side ever reads it.
            SmuxStream a = pair.server.openStream();
            Pattern.Sender flood = pattern.new Sender(a, -1, false, 3, 64 * 1024);
            pool.execute(flood);
            SmuxStream unread = pair.client.acceptStream(Duration.ofSeconds(10));
            AtomicLong maxBacklog = new AtomicLong();
            Thread sampler = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    maxBacklog.accumulateAndGet(unread.available(), Math::max);
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                }
            }, "fault-backlog-sampler");
            sampler.setDaemon(true);
            sampler.start();
            double beside;
            try {
                beside = transferRate(pair, pattern, pool, 2);
                Await.until(Duration.ofSeconds(10), () -> unread.available() == SmuxConfig.INITIAL_PEER_WINDOW,
                        () -> "A's backlog: " + unread.available() + " (its peer committed " + flood.committed() + ")");
            } finally {
                sampler.interrupt();
                sampler.join(1000);
            }
            String figures = String.format("%s: alone %.2f MB/s, beside the unread stream %.2f MB/s (%.0f%%), link %d KB/s;"
                            + " unread backlog max %d, now %d", transport, alone / 1e6, beside / 1e6,
                    100 * beside / alone, RATE_KBPS, maxBacklog.get(), unread.available());
            System.out.println("[isolation] " + figures);
            assertTrue(beside >= alone * MIN_SHARE_PERCENT / 100, figures);
            assertTrue(maxBacklog.get() <= SmuxConfig.INITIAL_PEER_WINDOW, figures);
            // (the flood's current write counts its committed bytes only when it returns, which it must not)
            assertTrue(flood.committed() <= SmuxConfig.INITIAL_PEER_WINDOW, figures);
            assertFalse(flood.done(), "the flood's write must still be waiting for window: " + figures);
            assertTrue(alone >= RATE_KBPS * 1000 * 0.5, "the baseline did not use the link: " + figures);
        } finally {
            pool.shutdownNow();
        }
    }

    /** Opens a stream from the server, sends {@link #TRANSFER} bytes on it, returns the rate the client read them at. */
    private static double transferRate(ProxiedPair pair, Pattern pattern, ExecutorService pool, long seed) throws Exception {
        SmuxStream stream = pair.server.openStream();
        Pattern.Sender sender = pattern.new Sender(stream, TRANSFER, true, seed, 64 * 1024);
        pool.execute(sender);
        Pattern.Receiver receiver = pattern.new Receiver(pair.client.acceptStream(Duration.ofSeconds(10))).start();
        assertTrue(receiver.awaitEnd(30_000), () -> "transfer did not finish: " + receiver);
        assertTrue(receiver.endOfStream() && receiver.total() == TRANSFER && receiver.firstWrongOffset() < 0,
                receiver::toString);
        assertEquals(sender.sha256(), receiver.sha256());
        return TRANSFER * 1e9 / (receiver.lastByteNanos() - receiver.firstByteNanos());
    }

    /**
     * Version 1 cannot keep streams apart: with the session's receive budget spent on a stream nobody reads, the
     * session stops reading the connection (as xtaci/smux does) and every other stream stops with it. Reading the
     * unread stream lets everything go on. (docs/PROTOCOL.md, "Flow control".)
     */
    @Test
    @Timeout(60)
    void versionOneDoesStallTheOtherStreams(ToxiproxyBackend toxiproxy) throws Exception {
        ExecutorService pool = Faults.pool("fault-isolation-v1", 0);
        long budget = 1 << 20;
        SmuxConfig config = SmuxConfig.builder().transport("socket").version(1).maxSessionBuffer(budget).build();
        try (ProxiedPair pair = ProxiedPair.open(toxiproxy, "isolation-v1", config)) {
            Pattern pattern = new Pattern(13);
            // Both streams exist on both sides before any data moves: in version 1 even the other stream's
            // SYN would otherwise wait behind the flood.
            SmuxStream a = pair.server.openStream();
            SmuxStream b = pair.server.openStream();
            SmuxStream first = pair.client.acceptStream(Duration.ofSeconds(10));
            SmuxStream second = pair.client.acceptStream(Duration.ofSeconds(10));
            SmuxStream unread = first.id() == a.id() ? first : second;
            SmuxStream other = unread == first ? second : first;
            Pattern.Sender flood = pattern.new Sender(a, -1, false, 3, 64 * 1024);
            pool.execute(flood);
            Await.until(Duration.ofSeconds(10), () -> unread.available() >= budget - 64 * 1024,
                    () -> "the unread stream never filled the budget: " + unread.available());
            // Only now the other stream starts: had it started with the flood, on a busy machine it
            // could finish its whole transfer before the flood's thread got going.
            Pattern.Sender sender = pattern.new Sender(b, TRANSFER, true, 4, 64 * 1024);
            pool.execute(sender);
            Pattern.Receiver receiver = pattern.new Receiver(other).start();
            // The session reads on to the frame that spends the budget, then stops: from then on, nothing moves.
            long stuckAt = -1;
            long until = System.nanoTime() + 10_000_000_000L;
            while (stuckAt < 0 && System.nanoTime() - until < 0) {
                long seen = receiver.total();
                if (Faults.holdsFor(300, () -> receiver.total() == seen)) {
                    stuckAt = seen;
                }
            }
            long stalled = stuckAt;
            assertTrue(stalled >= 0 && stalled < TRANSFER, () -> "version 1 kept the other stream moving: " + receiver);
            assertTrue(Faults.holdsFor(1000, () -> receiver.total() == stalled),
                    () -> "version 1 went on moving the other stream: " + receiver);
            System.out.println("[isolation] socket v1: the other stream stopped at " + stalled + " of " + TRANSFER
                    + " bytes while " + unread.available() + " unread bytes filled the " + budget + "-byte budget");

            // Reading the unread stream releases the session, and the other stream completes intact.
            Pattern.Receiver drain = pattern.new Receiver(unread).start();
            assertTrue(receiver.awaitEnd(30_000), receiver::toString);
            assertTrue(receiver.endOfStream() && receiver.total() == TRANSFER && receiver.firstWrongOffset() < 0,
                    receiver::toString);
            assertEquals(-1, drain.firstWrongOffset(), drain::toString);
        } finally {
            pool.shutdownNow();
        }
    }
}
