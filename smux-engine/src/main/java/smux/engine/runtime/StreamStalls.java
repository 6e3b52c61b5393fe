package smux.engine.runtime;

import smux.api.Session;
import smux.api.StallCause;
import smux.api.StallStats;

/**
 * One stream's stall accounting: how long and with how many bytes it waited, by cause
 * ({@link StallCause}). Told only when a wait starts or ends, never per byte: the send side by the
 * engine, through {@link smux.engine.StreamSides#sendWait} (inside the pump's engine calls, with
 * their time), the receive side by its {@link ReceiveSide} when its buffer goes from empty to
 * non-empty and back (under the side's lock, which is taken before this one, never after).
 * A wait shorter than {@link StallStats#MIN_STALL} is the ordinary hand-off and is not counted.
 * Each finished stall is added to the session's {@link Totals} too, and recorded as a JFR
 * {@code smux.Stall} event if it lasted past the event's threshold.
 */
final class StreamStalls {
    private static final long MIN_NANOS = StallStats.MIN_STALL.toNanos();
    /** The figures of a stream that never waited (it has no accounting yet). */
    static final StallStats NONE = of(new long[3], new long[3], null, 0);

    private final int id;
    private final Totals session;
    private final Session owner;
    private final long[] nanos = new long[3];
    private final long[] bytes = new long[3];

    private StallCause sending;
    private long sendSince;
    private long sendBytes;
    private Telemetry.Stall sendEvent;

    private boolean holding;
    private long holdSince;
    /** The receive side's count of buffered bytes when the hold began. */
    private long holdMark;
    private Telemetry.Stall holdEvent;

    StreamStalls(int id, Totals session, Session owner) {
        this.id = id;
        this.session = session;
        this.owner = owner;
    }

    /** The engine says what the stream's pending bytes wait for now (null: nothing); ends the previous wait. */
    synchronized void send(StallCause cause, int pending, long now) {
        if (sending != null) {
            end(sending, now - sendSince, sendBytes, sendEvent);
            sendEvent = null;
        }
        sending = cause;
        if (cause != null) {
            sendSince = now;
            sendBytes = pending;
            sendEvent = Telemetry.stallBegins(cause, id);
        }
    }

    /** Received bytes start waiting in the buffer, which was empty; {@code mark} counts what was buffered before them. */
    synchronized void holdBegins(long mark) {
        if (!holding) {
            holding = true;
            holdSince = System.nanoTime();
            holdMark = mark;
            holdEvent = Telemetry.stallBegins(StallCause.LOCAL_READER, id);
        }
    }

    /** The buffer is empty again (read, or dropped); {@code mark} counts every byte buffered so far. */
    synchronized void holdEnds(long mark) {
        if (holding) {
            holding = false;
            end(StallCause.LOCAL_READER, System.nanoTime() - holdSince, mark - holdMark, holdEvent);
            holdEvent = null;
        }
    }

    /** The stream or its session ended: so did its waits. */
    synchronized void endAll(long mark) {
        send(null, 0, System.nanoTime());
        holdEnds(mark);
    }

    /**
     * @param mark the receive side's count of buffered bytes now
     * @param finished whether to include the finished stalls (a stream's view), or only those going on (for the session's sum)
     */
    synchronized StallStats snapshot(long mark, boolean finished) {
        long[] n = finished ? nanos.clone() : new long[3];
        long[] b = finished ? bytes.clone() : new long[3];
        long now = System.nanoTime();
        StallCause ongoing = null;
        long ongoingNanos = 0;
        if (sending != null && now - sendSince >= MIN_NANOS) {
            n[sending.ordinal()] += now - sendSince;
            b[sending.ordinal()] += sendBytes;
            ongoing = sending;
            ongoingNanos = now - sendSince;
        }
        if (holding && now - holdSince >= MIN_NANOS) {
            n[StallCause.LOCAL_READER.ordinal()] += now - holdSince;
            b[StallCause.LOCAL_READER.ordinal()] += mark - holdMark;
            if (now - holdSince > ongoingNanos) {
                ongoing = StallCause.LOCAL_READER;
                ongoingNanos = now - holdSince;
            }
        }
        return of(n, b, ongoing, ongoingNanos);
    }

    private void end(StallCause cause, long duration, long stalledBytes, Telemetry.Stall event) {
        if (duration < MIN_NANOS) {
            return;
        }
        nanos[cause.ordinal()] += duration;
        bytes[cause.ordinal()] += stalledBytes;
        session.add(cause, duration, stalledBytes);
        if (event != null) {
            Telemetry.stallEnds(event, owner, stalledBytes);
        }
    }

    static StallStats of(long[] n, long[] b, StallCause ongoing, long ongoingNanos) {
        return new StallStats(n[0], b[0], n[1], b[1], n[2], b[2], ongoing, ongoingNanos);
    }

    /** A session's finished stalls, all its streams together. */
    static final class Totals {
        private final long[] nanos = new long[3];
        private final long[] bytes = new long[3];

        synchronized void add(StallCause cause, long duration, long stalledBytes) {
            nanos[cause.ordinal()] += duration;
            bytes[cause.ordinal()] += stalledBytes;
        }

        synchronized StallStats snapshot() {
            return of(nanos.clone(), bytes.clone(), null, 0);
        }
    }
}
