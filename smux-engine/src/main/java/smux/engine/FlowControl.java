package smux.engine;

import smux.api.ProtocolException;
import smux.api.ProtocolException.Violation;
import smux.api.SmuxConfig;

/**
 * The flow-control accounting of one stream, both directions, as xtaci/smux version 2 does it;
 * a version 1 stream has no window (the session's budget bounds it instead).
 *
 * <p>Sending: {@code inflight = written - peerConsumed}; at most {@code peerWindow - inflight}
 * more bytes may leave. Until the peer's first UPD the window is xtaci's guess, 262144.
 *
 * <p>Receiving: the application's reads are reported with {@code UPD{consumed, window}} on the
 * first read and whenever the bytes read since the last UPD reach half the window. The peer may
 * have sent up to 262144 bytes before our first UPD (xtaci's guess, whatever our window is) and
 * {@code max(262144, lastAdvertisedConsumed + window)} after it. More than that is a
 * {@link Violation#WINDOW_OVERRUN}.
 *
 * <p>Counters are 64-bit totals; the wire carries them mod 2^32. Invariants, checked:
 * {@code 0 <= peerConsumed <= written}, {@code consumed <= received <= receiveLimit()}.
 */
final class FlowControl {
    private final boolean windowed;
    /** The window this side advertises now (it changes when the window is tuned). */
    private int window;
    /**
     * A UPD is due each time the application has read {@code window / updateDivisor} since the
     * last: 2 as xtaci does; 4 for a tuned window, which keeps more credit in flight over a long
     * round trip (a UPD costs 16 bytes).
     */
    private int updateDivisor = 2;

    private long written;
    private long peerConsumed;
    private long peerWindow = SmuxConfig.INITIAL_PEER_WINDOW;

    private long received;
    private long consumed;
    private long advertisedConsumed;
    private boolean advertisedOnce;
    /**
     * The most the peer may have sent in all: xtaci's 262144 guess until our first UPD, then the
     * largest {@code consumed + window} any UPD granted. It never moves back, so a window that
     * shrinks never turns bytes the peer was allowed to send into a violation.
     */
    private long rightEdge = SmuxConfig.INITIAL_PEER_WINDOW;

    /**
     * @param windowed true for version 2
     * @param window this side's receive window, advertised in UPD
     */
    FlowControl(boolean windowed, int window) {
        this.windowed = windowed;
        this.window = window;
    }

    /** @return how many more bytes this side may send now (unbounded in version 1) */
    long sendAllowance() {
        if (!windowed) {
            return Long.MAX_VALUE;
        }
        return Math.max(0, peerWindow - (written - peerConsumed));
    }

    /** Records {@code n} payload bytes committed for sending. */
    void onSent(int n) {
        written += n;
    }

    /**
     * Applies the peer's UPD.
     *
     * @param consumedU32 CONSUMED from the frame (mod 2^32)
     * @param windowU32 WINDOW from the frame (u32)
     * @return whether the allowance grew from zero (a blocked sender may go on)
     * @throws ProtocolException if the peer claims to have read more than was sent
     */
    boolean onPeerUpdate(int streamId, int consumedU32, int windowU32) throws ProtocolException {
        int inflight = (int) written - consumedU32;
        if (inflight < 0) {
            throw new ProtocolException(Violation.NEGATIVE_INFLIGHT, "stream " + Integer.toUnsignedString(streamId)
                    + ": peer consumed " + Integer.toUnsignedString(consumedU32) + " but only "
                    + Integer.toUnsignedString((int) written) + " (mod 2^32) were sent");
        }
        boolean wasBlocked = sendAllowance() == 0;
        peerConsumed = written - inflight;
        peerWindow = Integer.toUnsignedLong(windowU32);
        return wasBlocked && sendAllowance() > 0;
    }

    /**
     * Returns the total the peer may have sent so far (version 2): xtaci's 262144 guess until our
     * first UPD leaves; after that also whatever the last UPD granted, since the guess may still
     * be in use while the UPD travels.
     */
    long receiveLimit() {
        return rightEdge;
    }

    /**
     * Records {@code n} received payload bytes (before they are buffered).
     *
     * @throws ProtocolException if they exceed the window the peer was granted
     */
    void onReceived(int streamId, int n) throws ProtocolException {
        if (windowed && received + n > receiveLimit()) {
            throw new ProtocolException(Violation.WINDOW_OVERRUN, "stream " + Integer.toUnsignedString(streamId)
                    + ": peer sent " + (received + n) + " bytes in total, but was granted " + receiveLimit()
                    + " (window " + window + ", last reported consumed " + advertisedConsumed + ")");
        }
        received += n;
    }

    /**
     * Records {@code n} bytes read by the application.
     *
     * @return whether a UPD is due (version 2: the first read, or half a window read since the last UPD)
     */
    boolean onConsumed(long n) {
        consumed += n;
        if (!windowed || n == 0) {
            return false;
        }
        return !advertisedOnce || consumed - advertisedConsumed >= window / updateDivisor;
    }

    /**
     * Returns the total of consumed bytes at which a UPD becomes due (version 2): the first read,
     * then half a window past the last UPD.
     *
     * @return a total of consumed bytes
     */
    long nextUpdateAt() {
        return advertisedOnce ? advertisedConsumed + window / updateDivisor : consumed + 1;
    }

    /**
     * The unread bytes were dropped (the stream or session closed): count them as consumed.
     *
     * @param delivered the payload bytes handed over so far (a frame may be partly received)
     */
    void dropUnconsumed(long delivered) {
        consumed = delivered;
    }

    /**
     * Marks a UPD as leaving now with the current window and returns its CONSUMED value.
     *
     * @return total consumed, mod 2^32
     */
    int advertise() {
        return advertise(window);
    }

    /**
     * Marks a UPD as leaving now with {@code newWindow} (a tuned window) and returns its CONSUMED
     * value.
     *
     * @param newWindow the window the UPD carries
     * @return total consumed, mod 2^32
     */
    int advertise(int newWindow) {
        window = newWindow;
        advertisedConsumed = consumed;
        advertisedOnce = true;
        rightEdge = Math.max(rightEdge, consumed + window);
        return (int) consumed;
    }

    /** Sends window updates every quarter window instead of every half (tuned windows). */
    void updateEveryQuarter() {
        updateDivisor = 4;
    }

    /** @return whether {@link #updateEveryQuarter} was called: the stream's window is tuned */
    boolean updatesEveryQuarter() {
        return updateDivisor == 4;
    }

    /** @return this side's window as advertised in UPD */
    int window() {
        return window;
    }

    /** @return bytes received but not yet read */
    long buffered() {
        return received - consumed;
    }

    long written() {
        return written;
    }

    long received() {
        return received;
    }

    long consumed() {
        return consumed;
    }
}
