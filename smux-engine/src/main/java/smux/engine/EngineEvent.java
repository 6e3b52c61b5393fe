package smux.engine;

import smux.api.SessionClosedException;

/**
 * What the engine tells its driver, one value at a time from {@link SmuxEngine#pollEvent()}.
 * Immutable. Per-stream events are queued at most once until polled, so a busy stream does not
 * flood the queue, and their instances are reused.
 */
public sealed interface EngineEvent {

    /**
     * The peer opened a stream; it waits in the accept backlog ({@link SmuxEngine#accept()}).
     *
     * @param streamId the new stream
     */
    record StreamOpened(int streamId) implements EngineEvent { }

    /**
     * The stream has data to read, or reached end-of-stream.
     *
     * @param streamId the stream
     */
    record Readable(int streamId) implements EngineEvent { }

    /**
     * The stream's pending write was pulled in full: every byte is committed and the caller may
     * reuse its buffer. (A write ended by {@link SmuxEngine#withdraw}, {@link SmuxEngine#closeStream}
     * or a session close gets no event: the driver that made that call wakes its own writer.)
     *
     * @param streamId the stream
     */
    record Writable(int streamId) implements EngineEvent { }

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
