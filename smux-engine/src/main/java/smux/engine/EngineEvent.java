package smux.engine;

import smux.api.SessionClosedException;

/**
 * What the engine tells its driver, one value at a time from {@link SmuxEngine#pollEvent()}.
 * Immutable. There are no per-stream events: a stream's news reaches its application through the
 * stream's own sides ({@link StreamSides}), so events are few and never flood the queue.
 */
public sealed interface EngineEvent {

    /**
     * The peer opened a stream; it waits in the accept backlog ({@link SmuxEngine#accept()}).
     *
     * @param streamId the new stream
     */
    record StreamOpened(int streamId) implements EngineEvent { }

    /**
     * Nothing arrived for a whole keepalive interval: the session is quiet. Memory a burst left
     * pooled for reuse need not outlive it (the runtime lets its pooled receive segments go). The
     * engine keeps no pool of its own; it only says when.
     */
    record Quiet() implements EngineEvent { }

    /** The one {@link Quiet} instance the engine reports. */
    Quiet QUIET = new Quiet();

    /**
     * The answer to {@link SmuxEngine#startProbe}: whether the peer speaks this library's protocol.
     *
     * @param smux true if the peer answered the probe correctly
     */
    record ProbeResult(boolean smux) implements EngineEvent { }

    /**
     * The answer to {@link SmuxEngine#ping}.
     *
     * @param rttNanos the round trip, or -1 if no answer came within the probe timeout
     */
    record Pong(long rttNanos) implements EngineEvent { }

    /**
     * The session is over; every stream operation fails from now on. Sent once.
     *
     * @param reason why it ended
     * @param error the exception to give callers (its cause is the protocol error, if any)
     */
    record Closed(CloseReason reason, SessionClosedException error) implements EngineEvent { }
}
