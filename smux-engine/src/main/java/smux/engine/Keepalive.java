package smux.engine;

/**
 * Keepalive: a NOP every interval, and a session that heard nothing at all for the timeout is
 * dead. Control frames go ahead of bulk data (the scheduler takes them first), so a busy link
 * never looks dead to a peer that applies the same rule.
 *
 * <p>One subtlety: a version 1 engine stops reading the connection while its receive budget is
 * spent, and then cannot know whether the peer is silent (its bytes may be waiting, unread). The
 * idle deadline is therefore not trusted for any interval in which input was paused: it is
 * re-armed for a full timeout of actual reading.
 */
final class Keepalive {
    private final boolean enabled;
    private final long interval;
    private final long timeout;
    private boolean nopQueued;
    /** Since the idle timer was last armed, the engine stopped reading for a while (version 1 budget). */
    private boolean idleClockPaused;
    private long receivedAtLastKeepalive;

    Keepalive(boolean enabled, long intervalNanos, long timeoutNanos) {
        this.enabled = enabled;
        this.interval = intervalNanos;
        this.timeout = timeoutNanos;
    }

    void start(Timers timers, long now) {
        if (enabled) {
            timers.arm(Timers.Kind.KEEPALIVE, now + interval);
            timers.arm(Timers.Kind.IDLE, now + timeout);
        }
    }

    /** Bytes arrived: the peer is alive. */
    void onInput(Timers timers, long now, boolean reading) {
        if (enabled) {
            timers.arm(Timers.Kind.IDLE, now + timeout);
            idleClockPaused = !reading;
        }
    }

    /** The engine stopped taking input (version 1 budget spent). */
    void inputPaused() {
        idleClockPaused = true;
    }

    /**
     * The keepalive timer fired: re-arms it.
     *
     * @return whether a NOP should be queued (none is queued already)
     */
    boolean fire(Timers timers, long now) {
        timers.arm(Timers.Kind.KEEPALIVE, now + interval);
        if (nopQueued) {
            return false;
        }
        nopQueued = true;
        return true;
    }

    /** The keepalive timer fired while no NOP can be sent (an auto session's version is not known yet): re-arms it. */
    void skip(Timers timers, long now) {
        timers.arm(Timers.Kind.KEEPALIVE, now + interval);
    }

    /** A NOP left. */
    void nopSent() {
        nopQueued = false;
    }

    /**
     * Asked when the keepalive timer fired: whether nothing arrived since the last time it fired
     * (the session is quiet; pooled buffers of a burst need not outlive it).
     *
     * @param received payload bytes received so far
     */
    boolean quietSinceLast(long received) {
        boolean quiet = received == receivedAtLastKeepalive;
        receivedAtLastKeepalive = received;
        return quiet;
    }

    /**
     * The idle timer is due.
     *
     * @param reading whether the engine takes input now
     * @return true if the peer is dead: nothing arrived for a whole timeout of reading
     */
    boolean idleExpired(Timers timers, long now, boolean reading) {
        if (!timers.expired(Timers.Kind.IDLE, now)) {
            return false;
        }
        if (!reading || idleClockPaused) {
            // we stopped reading, now or for part of the interval: give the peer a full timeout of reading
            idleClockPaused = !reading;
            timers.arm(Timers.Kind.IDLE, now + timeout);
            return false;
        }
        return true;
    }

    long timeoutNanos() {
        return timeout;
    }
}
