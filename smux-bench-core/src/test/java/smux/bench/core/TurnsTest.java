package smux.bench.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The arithmetic of a comparison, on loads that move bytes at a set rate while they hold the turn
 * (counted from the clock, no threads, no sockets), so each ratio is known in advance.
 */
class TurnsTest {
    /** Two rounds of a 0.5 s slice each. */
    private static final Schedule SHORT = new Schedule(Duration.ofMillis(1000), Duration.ofMillis(300));

    /** Moves {@code mbps} while active, nothing while it holds. */
    private static final class Steady extends Load {
        private final double bytesPerNano;
        private long activeSince = -1;
        private long activeNanos;
        private int turns;

        Steady(double mbps) {
            super("steady");
            this.bytesPerNano = mbps / 1e3;
        }

        @Override
        synchronized void setActive(boolean on) {
            long now = System.nanoTime();
            if (on && activeSince < 0) {
                activeSince = now;
                turns++;
            } else if (!on && activeSince >= 0) {
                activeNanos += now - activeSince;
                activeSince = -1;
            }
        }

        @Override
        synchronized long bytes() {
            long t = activeNanos + (activeSince < 0 ? 0 : System.nanoTime() - activeSince);
            return (long) (t * bytesPerNano);
        }

        @Override
        protected void closeConnections() {
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void ratiosAreTakenToRawTcpOfTheSameComparison() {
        Steady raw = new Steady(1000);
        Steady smux = new Steady(800);
        Turns.Outcome o = Turns.run(10, List.of(Turns.Contender.of("raw", () -> raw), Turns.Contender.of("socket", () -> smux)),
                Duration.ofMillis(50), SHORT);
        assertEquals(2, o.rows().size());
        ThroughputRow r = o.rows().get(0);
        ThroughputRow s = o.rows().get(1);
        assertEquals("raw", r.transport());
        assertEquals(10, s.streams());
        assertEquals(1000, r.mbps(), 20);
        assertEquals(800, s.mbps(), 16);
        assertEquals(0.8, s.ratio(), 0.01);
        assertTrue(s.ratioMin() <= s.ratio() + 1e-9 && s.ratio() <= s.ratioMax() + 1e-9, () -> "the range holds the ratio: " + s);
        assertTrue(Double.isNaN(r.ratio()) && Double.isNaN(r.ratioMin()) && Double.isNaN(r.cpuRatio()), () -> "no ratio to itself: " + r);
        assertNull(s.error());
        assertEquals(1 + SHORT.rounds() + 1, smux.turns, "a warm-up, a turn a round, and the close that lets its writers end");
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aContenderThatCannotRunGetsARowWithWhyAndNoRatioIsTakenWithoutRawTcp() {
        Steady smux = new Steady(500);
        Turns.Outcome o = Turns.run(1000, List.of(
                Turns.Contender.refused("raw", "the file descriptor limit (1024) is too low"),
                Turns.Contender.of("socket", () -> smux),
                Turns.Contender.of("nio", () -> {
                    throw new IOException("connection refused");
                })), Duration.ofMillis(50), SHORT);
        List<ThroughputRow> rows = o.rows();
        assertEquals("the file descriptor limit (1024) is too low", rows.get(0).error());
        assertTrue(Double.isNaN(rows.get(0).mbps()));
        assertEquals(500, rows.get(1).mbps(), 10);
        assertTrue(Double.isNaN(rows.get(1).ratio()) && Double.isNaN(rows.get(1).ratioMin()), () -> "no baseline: " + rows.get(1));
        assertEquals("java.io.IOException: connection refused", rows.get(2).error());
        assertTrue(Double.isNaN(rows.get(2).mbps()));
    }
}
