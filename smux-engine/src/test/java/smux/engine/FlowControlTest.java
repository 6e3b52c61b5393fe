package smux.engine;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import smux.api.ProtocolException;
import smux.api.ProtocolException.Violation;

/** The flow-control accounting of one stream (xtaci version 2 rules), and its absence in version 1. */
class FlowControlTest {
    private static final int GUESS = 262_144; // xtaci's initialPeerWindow

    @Test
    void senderStartsWithXtacisGuessedWindow() {
        FlowControl f = new FlowControl(true, 65536);
        assertEquals(GUESS, f.sendAllowance());
        f.onSent(1000);
        assertEquals(GUESS - 1000, f.sendAllowance());
        f.onSent(GUESS - 1000);
        assertEquals(0, f.sendAllowance());
    }

    @Test
    void allowanceIsPeerWindowMinusInflight() throws ProtocolException {
        FlowControl f = new FlowControl(true, 65536);
        f.onSent(100_000);
        f.onPeerUpdate(3, 40_000, 65_536); // inflight 60 000
        assertEquals(65_536 - 60_000, f.sendAllowance());
        f.onPeerUpdate(3, 100_000, 65_536);
        assertEquals(65_536, f.sendAllowance());
    }

    @Test
    void aWindowShrunkBelowInflightGivesZeroNotNegative() throws ProtocolException {
        FlowControl f = new FlowControl(true, 65536);
        f.onSent(200_000);
        f.onPeerUpdate(3, 10, 1024);
        assertEquals(0, f.sendAllowance());
    }

    @Test
    void anUpdateReportsWhenItUnblocksTheSender() throws ProtocolException {
        FlowControl f = new FlowControl(true, 65536);
        f.onSent(GUESS);
        assertFalse(f.onPeerUpdate(3, 0, GUESS), "still no allowance");
        assertTrue(f.onPeerUpdate(3, 1, GUESS), "one byte consumed: one byte of allowance");
        assertFalse(f.onPeerUpdate(3, 2, GUESS), "was not blocked");
    }

    @Test
    void consumedBeyondWrittenIsNegativeInflight() throws ProtocolException {
        FlowControl f = new FlowControl(true, 65536);
        f.onSent(10);
        assertDoesNotThrow(() -> f.onPeerUpdate(3, 10, 65536));
        ProtocolException e = assertThrows(ProtocolException.class, () -> f.onPeerUpdate(3, 11, 65536));
        assertEquals(Violation.NEGATIVE_INFLIGHT, e.violation());
        assertEquals(65536, f.sendAllowance(), "a rejected update changes nothing");
    }

    @Test
    void consumedOnANeverWrittenStreamIsNegativeInflight() {
        FlowControl f = new FlowControl(true, 65536);
        assertEquals(Violation.NEGATIVE_INFLIGHT,
                assertThrows(ProtocolException.class, () -> f.onPeerUpdate(5, 1, 65536)).violation());
    }

    @Test
    void updIsDueOnTheFirstReadThenEveryHalfWindow() {
        FlowControl f = new FlowControl(true, 65536);
        assertFalse(f.onConsumed(0), "a read of nothing is not a read");
        assertTrue(f.onConsumed(1), "first read");
        assertEquals(1, f.advertise());
        assertFalse(f.onConsumed(32767), "one byte short of half the window");
        assertTrue(f.onConsumed(1), "32768 read since the last UPD: half the window");
        assertEquals(32769, f.advertise());
        assertFalse(f.onConsumed(100));
    }

    @Test
    void updStaysDueUntilOneIsAdvertised() {
        FlowControl f = new FlowControl(true, 65536);
        assertTrue(f.onConsumed(5));
        assertTrue(f.onConsumed(5), "the first UPD has not left: still due (the engine queues one at most)");
        assertEquals(10, f.advertise(), "it carries the count at the time it leaves");
        assertFalse(f.onConsumed(5));
    }

    @Test
    void receiverAcceptsXtacisGuessBeforeItsFirstUpdWhateverItsWindow() throws ProtocolException {
        FlowControl f = new FlowControl(true, 1024);
        assertEquals(GUESS, f.receiveLimit());
        f.onReceived(3, GUESS);
        ProtocolException e = assertThrows(ProtocolException.class, () -> f.onReceived(3, 1));
        assertEquals(Violation.WINDOW_OVERRUN, e.violation());
        assertEquals(GUESS, f.received(), "the overrunning frame is not counted");
    }

    @Test
    void receiveLimitIsLastAdvertisedConsumedPlusWindow() throws ProtocolException {
        FlowControl f = new FlowControl(true, 1 << 20);
        assertEquals(GUESS, f.receiveLimit(), "until our first UPD the peer only has xtaci's guess, whatever our window");
        f.onReceived(3, GUESS);
        f.onConsumed(200_000);
        assertEquals(GUESS, f.receiveLimit(), "a read that was not advertised grants nothing");
        f.advertise();
        assertEquals(200_000 + (1 << 20), f.receiveLimit());
        f.onReceived(3, 200_000 + (1 << 20) - GUESS); // exactly up to the new limit
        assertThrows(ProtocolException.class, () -> f.onReceived(3, 1));
    }

    @Test
    void smallWindowLimitGrowsOnlyPastTheGuess() throws ProtocolException {
        FlowControl f = new FlowControl(true, 65536);
        f.onReceived(3, 100_000);
        f.onConsumed(100_000);
        f.advertise();
        assertEquals(GUESS, f.receiveLimit(), "max(262144, 100000 + 65536)");
        f.onReceived(3, GUESS - 100_000);
        f.onConsumed(GUESS - 100_000);
        f.advertise();
        assertEquals(GUESS + 65536, f.receiveLimit());
        assertEquals(0, f.buffered());
    }

    @Test
    void bufferedIsReceivedMinusConsumed() throws ProtocolException {
        FlowControl f = new FlowControl(true, 65536);
        f.onReceived(3, 1000);
        f.onConsumed(300);
        assertEquals(700, f.buffered());
        assertEquals(1000, f.received());
        assertEquals(300, f.consumed());
    }

    @Test
    void versionOneHasNoWindowAndNoUpdates() throws ProtocolException {
        FlowControl f = new FlowControl(false, 65536);
        assertEquals(Long.MAX_VALUE, f.sendAllowance());
        f.onSent(10_000_000);
        assertEquals(Long.MAX_VALUE, f.sendAllowance());
        f.onReceived(3, 10_000_000);
        assertFalse(f.onConsumed(10_000_000), "version 1 never sends UPD");
    }

    @Test
    void sendCountersWrapModulo2To32() throws ProtocolException {
        FlowControl f = new FlowControl(true, 65536);
        long written = 0;
        long step = 1L << 30; // a quarter of 2^32 per round; the peer's window follows
        f.onPeerUpdate(3, 0, (int) step);
        for (int round = 0; round < 9; round++) { // 9/4 of 2^32: the u32 wraps twice
            assertEquals(step, f.sendAllowance(), "round " + round);
            f.onSent((int) step);
            written += step;
            assertEquals(0, f.sendAllowance());
            // the peer reports consumption as u32: written mod 2^32, minus a little still in flight
            f.onPeerUpdate(3, (int) (written - 1000), (int) step);
            assertEquals(step - 1000, f.sendAllowance());
            f.onPeerUpdate(3, (int) written, (int) step);
        }
        assertEquals(written, f.written());
        assertTrue(written > 0xFFFF_FFFFL * 2);
        // a wrapped CONSUMED just ahead of the wrapped WRITTEN is still negative inflight
        int ahead = (int) (written + 1);
        assertThrows(ProtocolException.class, () -> f.onPeerUpdate(3, ahead, (int) step));
    }

    @Test
    void advertisedConsumedWrapsModulo2To32() throws ProtocolException {
        FlowControl f = new FlowControl(true, 1 << 30);
        f.advertise(); // a first UPD (consumed 0) grants the whole window
        long total = 0;
        for (int round = 0; round < 5; round++) {
            f.onReceived(3, 1 << 30);
            f.onConsumed(1 << 30);
            total += 1L << 30;
            assertEquals((int) total, f.advertise(), "round " + round);
        }
        assertEquals(5L << 30, f.consumed(), "the 64-bit total does not wrap");
        assertEquals(1L << 30, Integer.toUnsignedLong(f.advertise()), "5 * 2^30 mod 2^32");
    }
}
