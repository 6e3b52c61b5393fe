package smux.engine;

/**
 * Auto-tuning of one stream's receive window (version 2), decided each time a window update
 * (UPD) leaves.
 *
 * <p>Theory of operation. A stream moves at most one window per round trip, so the window should
 * be about what the link carries in a round trip, and no more: memory is reserved for every byte
 * of it. Two measurements, both from timing the engine has anyway:
 * <ul>
 *   <li><b>The round trip.</b> When a UPD moves the right edge, the peer's first byte past the
 *       old edge cannot leave before the UPD reaches it, so it arrives one round trip later at
 *       the earliest: exactly one (plus the peer's scheduling) when the peer was waiting at the
 *       edge, which is the case whenever the window limits the stream; later when bytes below
 *       the edge were still on their way. A sample is taken on every UPD that moves the edge
 *       while none is pending, whether or not everything granted before had arrived: a reader
 *       that keeps up with a long link always has credit in flight, and a rule that waited for
 *       the peer to have used all its credit found no sample and never grew the window. The
 *       smallest sample is the path's own delay; a smoothed one (TCP's 7/8 old, 1/8 new) is
 *       kept too.</li>
 *   <li><b>Who limits the stream.</b> A UPD of a tuned window leaves each time the application
 *       has read a quarter window since the last one (not half, as xtaci: more credit stays in
 *       flight over a long round trip). If that took less than two round trips, the reader keeps
 *       up and the window is what limits the stream: double it (the rule quinn and Chromium use
 *       for QUIC). It settles below about eight bandwidth-delay products, where a quarter window
 *       takes two round trips to arrive. If it took more than eight (smoothed) round trips to read
 *       while a quarter of a window or more waited unread, the reader is the limit: halve it.</li>
 * </ul>
 * Measuring against the smallest round trip matters: a bigger window also fills the queues on the
 * way, and growing against a round trip that grows with the window would never stop. When memory
 * is tight (the session's or the shared budget three quarters used), a stream whose reader is
 * behind (three quarters of a window unread) halves its window too. A window never goes below its
 * initial size nor above its maximum. The engine reserves a larger window before advertising it
 * ({@link Admission}); if it cannot, the window stays as it is. Shrinking never takes back credit
 * already given (the right edge never moves back, see {@link FlowControl}), so a peer never finds
 * bytes it may send become a violation; a Go peer simply waits.
 */
final class WindowTuner {
    private final int floor;
    private final int ceiling;
    private long lastUpdate = Long.MIN_VALUE;
    private boolean updatedOnce;
    /** Smoothed round trip, nanoseconds; 0 until a first sample. */
    private long srtt;
    /** The smallest round trip seen, nanoseconds: the path's own delay; 0 until a first sample. */
    private long minRtt;
    /** The right edge the peer was waiting at when a UPD granted more, or -1 if no sample is pending. */
    private long sampleEdge = -1;
    private long sampleSince;

    WindowTuner(int initial, int maximum) {
        this.floor = initial;
        this.ceiling = maximum;
    }

    /** The peer's data has reached {@code received} bytes in all (a PSH header arrived). */
    void onReceived(long received, long now) {
        if (sampleEdge >= 0 && received > sampleEdge) {
            long sample = now - sampleSince;
            if (sample > 0) {
                srtt = srtt == 0 ? sample : (7 * srtt + sample) / 8;
                minRtt = minRtt == 0 ? sample : Math.min(minRtt, sample);
            }
            sampleEdge = -1;
        }
    }

    /**
     * A UPD is about to leave: returns the window it should carry.
     *
     * @param window the window now
     * @param received bytes the peer sent in all
     * @param consumed bytes the application read in all
     * @param rightEdge the most the peer may have sent before this update
     * @param tight whether memory is tight
     * @param now the current time
     * @return the window to advertise, within [initial, maximum]
     */
    int nextWindow(int window, long received, long consumed, long rightEdge, boolean tight, long now) {
        long unread = received - consumed;
        int next = window;
        if (minRtt > 0 && updatedOnce) {
            long interval = now - lastUpdate;
            if (interval < 2 * minRtt) {
                next = (int) Math.min(ceiling, 2L * window); // the window is the limit
            } else if (interval > 8 * srtt && unread >= window / 4) {
                next = Math.max(floor, window / 2); // the reader is the limit
            }
        }
        if (tight && unread >= 3L * window / 4) {
            next = Math.max(floor, Math.min(next, window / 2));
        }
        if (sampleEdge < 0 && consumed + next > rightEdge) {
            // this update is the first to move the edge: the peer's first byte past it comes a round trip later at
            // the earliest (later if bytes below the edge were still on their way), never sooner
            sampleEdge = rightEdge;
            sampleSince = now;
        }
        lastUpdate = now;
        updatedOnce = true;
        return next;
    }

    /** @return the path's round trip (the smallest sample) in nanoseconds, or 0 if not measured yet */
    long minRttNanos() {
        return minRtt;
    }
}
