package smux.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import smux.api.MemoryBudget;
import smux.api.SmuxConfig;

/**
 * Receive windows that tune themselves (issue 10), on an engine pair with simulated time: a link
 * of 25 ms each way and a limited bandwidth, so that the bandwidth-delay product is known and
 * a window's size decides a stream's speed.
 */
class WindowTuningTest {
    private static final long BANDWIDTH = 100L << 20;         // 100 MiB/s each way
    private static final long ONE_WAY = 25 * Pair.MS;          // a 50 ms round trip
    private static final long BDP = BANDWIDTH * 2 * ONE_WAY / Pair.SEC; // 5 MiB

    private static SmuxConfig.Builder quiet() {
        return SmuxConfig.builder().keepAliveDisabled().memoryBudget(MemoryBudget.of(1L << 32));
    }

    private static SmuxConfig tuned(int initial, int maximum) {
        return quiet().streamWindowTuned(initial, maximum).maxSessionBuffer(1L << 31).build();
    }

    /** Sends {@code total} bytes on one stream, reading as it comes; returns the bytes per second of the last half. */
    private static double transfer(SmuxConfig receiver, long total, long[] windowAfter) throws IOException {
        Pair p = new Pair(quiet().build(), receiver).latency(ONE_WAY).bandwidth(BANDWIDTH);
        int id = p.client.open();
        p.client.autoWrite(id, 7, total, 128 * 1024, true);
        p.drive();
        p.server.accept();
        Pair.Received got = p.server.autoVerify(id, 7);
        long start = p.now;
        long halfAt = -1;
        while (!got.eof) {
            p.advance(10 * Pair.MS);
            if (halfAt < 0 && got.count >= total / 2) {
                halfAt = p.now;
            }
            assertTrue(p.now - start < 600 * Pair.SEC, "the transfer never finished: " + got.count + " of " + total);
        }
        assertEquals(total, got.count);
        assertEquals(-1, got.firstMismatch, "every byte arrived, in order");
        if (windowAfter != null) {
            windowAfter[0] = p.server.engine.stream(id).receiveWindow();
            windowAfter[1] = p.server.engine.stream(id).measuredRoundTrip();
        }
        return (total / 2.0) / ((p.now - halfAt) / (double) Pair.SEC);
    }

    @Test
    void aStreamOverALongRoundTripGrowsItsWindowUntilTheLinkNotTheWindowLimitsIt() throws IOException {
        long[] window = new long[2];
        double tunedRate = transfer(tuned(64 * 1024, 32 << 20), 256L << 20, window);
        double fixedRate = transfer(quiet().streamWindow(512 * 1024).build(), 16L << 20, null);

        assertTrue(window[1] > 40 * Pair.MS && window[1] < 80 * Pair.MS,
                "the measured round trip is the link's 50 ms (plus serialisation): " + window[1] / 1e6 + " ms");
        assertTrue(window[0] >= BDP, "the window grew to at least the bandwidth-delay product (" + BDP + "): " + window[0]);
        assertTrue(window[0] <= 4 * 4 * BDP, "and not much past four times it: " + window[0]);
        assertTrue(tunedRate >= 0.8 * BANDWIDTH, "tuned: " + tunedRate / (1 << 20) + " MiB/s of a 100 MiB/s link");
        assertTrue(fixedRate < 0.3 * BANDWIDTH, "a fixed 512 KiB window moves one window per round trip: "
                + fixedRate / (1 << 20) + " MiB/s");
        assertTrue(tunedRate >= 5 * fixedRate, "tuned " + tunedRate + " vs fixed " + fixedRate);
    }

    @Test
    void aReaderThatKeepsUpFromTheFirstByteStillGrowsItsWindow() throws IOException {
        // As over a real link: the reader starts when the stream opens and reads each segment as it comes, so the
        // peer never has all its credit used when a UPD leaves. The tuner once sampled the round trip only then,
        // found no sample, and left the window at 256 KiB for the whole transfer (WindowTuningFaultTest saw it).
        SmuxConfig defaults = quiet().build();
        Pair p = new Pair(quiet().build(), defaults).latency(ONE_WAY).bandwidth(BANDWIDTH)
                .chunker(r -> Math.min(r, 16 * 1024));
        int id = p.client.open();
        long total = 64L << 20;
        p.client.autoWrite(id, 5, total, 128 * 1024, true);
        p.advance(ONE_WAY + Pair.MS / 50); // the SYN and the first segments have arrived, most of the window has not
        p.server.accept();
        Pair.Received got = p.server.autoVerify(id, 5);
        assertTrue(got.count < SmuxConfig.INITIAL_PEER_WINDOW, "the reader starts before the first window arrived: " + got.count);
        int largest = 0;
        long start = p.now;
        while (!got.eof) {
            p.advance(10 * Pair.MS);
            if (p.server.engine.stream(id) != null) {
                largest = Math.max(largest, p.server.engine.stream(id).receiveWindow());
                long rtt = p.server.engine.stream(id).measuredRoundTrip();
                assertTrue(rtt == 0 || rtt >= 2 * ONE_WAY, "no round trip sample is shorter than the link's: " + rtt);
            }
            assertTrue(p.now - start < 60 * Pair.SEC, "the transfer never finished: " + got.count + " of " + total);
        }
        assertTrue(got.count == total && got.firstMismatch < 0, "every byte arrived, in order");
        assertTrue(largest >= BDP, "the window grew from 256 KiB to at least the bandwidth-delay product (" + BDP + "): "
                + largest);
    }

    @Test
    void aWindowThatIsNotTheLimitDoesNotGrow() throws IOException {
        // a 0.2 ms round trip: the link, not the window, soon limits the stream (its bandwidth-delay
        // product is about 20 KiB, 40 KiB with the queue), so the window stops growing far below its maximum
        Pair p = new Pair(quiet().build(), tuned(64 * 1024, 16 << 20)).latency(Pair.MS / 10).bandwidth(BANDWIDTH)
                .chunker(r -> Math.min(r, 16 * 1024)); // bytes arrive a segment at a time, as over TCP
        int id = p.client.open();
        p.client.autoWrite(id, 3, 8L << 20, 128 * 1024, true);
        p.drive();
        p.server.accept();
        p.server.autoVerify(id, 3);
        p.drive();
        assertTrue(p.server.engine.stream(id).receiveWindow() <= 1 << 20,
                "a short round trip needs no big window (it settles below about 8 bandwidth-delay products, far from"
                        + " the 16 MiB maximum): " + p.server.engine.stream(id).receiveWindow() + " (round trip "
                        + p.server.engine.stream(id).measuredRoundTrip() / 1e6 + " ms)");
    }

    @Test
    void aStreamWhoseReaderFallsBehindShrinksBack() throws IOException {
        SmuxConfig server = tuned(64 * 1024, 16 << 20);
        Pair p = new Pair(quiet().build(), server).latency(ONE_WAY).bandwidth(BANDWIDTH);
        int id = p.client.open();
        p.client.autoWrite(id, 9, 1L << 40, 128 * 1024, false); // endless
        p.drive();
        p.server.accept();
        p.server.autoVerify(id, 9);
        p.advance(3 * Pair.SEC);
        int grown = p.server.engine.stream(id).receiveWindow();
        assertTrue(grown >= BDP, "grown first: " + grown);

        // the reader slows to 64 KiB per 100 ms: far less than the window per round trip
        p.server.stopReading(id);
        ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
        for (int i = 0; i < 300; i++) {
            p.advance(100 * Pair.MS);
            chunk.clear();
            p.server.app.read(id, chunk);
        }
        int shrunk = p.server.engine.stream(id).receiveWindow();
        assertTrue(shrunk <= grown / 4, "the window shrank from " + grown + " to " + shrunk);
        assertTrue(shrunk >= 64 * 1024, "never below its initial size: " + shrunk);
        assertTrue(p.server.engine.bufferedBytes() <= grown, "what waits unread is within what was granted");
        assertNull(p.server.closed());
        assertNull(p.client.closed());
    }

    @Test
    void aThousandStreamsUnderASmallBudgetStayWithinItAndAllMove() throws IOException {
        MemoryBudget budget = MemoryBudget.of(600L << 20); // 1,000 x 256 KiB admitted, little room to grow
        SmuxConfig server = quiet().streamWindowTuned(64 * 1024, 16 << 20).maxStreams(1100).acceptBacklog(1100)
                .maxSessionBuffer(1L << 31).memoryBudget(budget).build();
        SmuxConfig client = quiet().maxStreams(1100).maxSessionBuffer(1L << 31).build();
        Pair p = new Pair(client, server).latency(ONE_WAY).bandwidth(BANDWIDTH);
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            int id = p.client.open();
            ids.add(id);
            p.client.autoWrite(id, id, 512 * 1024, 64 * 1024, true);
        }
        p.drive();
        List<Pair.Received> got = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            int id = p.server.accept();
            got.add(p.server.autoVerify(id, id));
        }
        long peak = 0;
        for (int round = 0; round < 6000 && !got.stream().allMatch(r -> r.eof); round++) {
            p.advance(10 * Pair.MS);
            peak = Math.max(peak, p.server.engine.bufferedBytes());
            assertTrue(budget.used() <= budget.capacity(), "reserved " + budget.used());
            assertTrue(p.server.engine.bufferedBytes() <= budget.capacity(), "buffered " + p.server.engine.bufferedBytes());
        }
        for (Pair.Received r : got) {
            assertTrue(r.eof && r.count == 512 * 1024 && r.firstMismatch < 0, "every stream moved to its end: " + r.count);
        }
        assertTrue(budget.peak() <= budget.capacity(), "reserved at most " + budget.peak());
        assertTrue(peak <= budget.capacity());
        assertEquals(0, p.server.engine.streamsRefused());
    }
}
