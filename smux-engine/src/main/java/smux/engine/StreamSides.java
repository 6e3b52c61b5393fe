package smux.engine;

import smux.api.StallCause;

/**
 * The two sides of one stream: where its received bytes go and where its outgoing bytes wait.
 * Every stream has them from birth: the engine asks its {@link Factory} for them when it admits
 * the stream, and reaches the stream's bytes through them alone. The object belongs to whoever
 * made it (the session runtime makes its stream handle); the engine keeps it as the stream's
 * attachment ({@link StreamView#sides()}) and never looks at it otherwise.
 */
public interface StreamSides {
    /** @return where the stream's received bytes go: the same object on every call (the engine asks each time, it keeps no copy) */
    Inbound inbound();

    /** @return where the stream's outgoing bytes wait: the same object on every call */
    Outbound outbound();

    /**
     * The engine ended the stream before its application closed it: it shed the stream (its
     * receive memory was needed), or the peer refused or reset it. From now on reads (after the
     * bytes still buffered, unless {@code dropUnread}) and writes throw {@code why}; a write in
     * progress ends with what was committed. Called inside an engine call; it must not call the
     * engine. The default does nothing (a caller that needs no error).
     *
     * @param why what reads and writes throw, naming the reason
     * @param dropUnread whether the bytes not yet read are thrown away
     */
    default void reset(java.io.IOException why, boolean dropUnread) {
    }

    /**
     * The stream's outgoing bytes started or stopped waiting: {@code cause} is
     * {@link StallCause#PEER_WINDOW} (bytes pending, the peer's window used up),
     * {@link StallCause#CONNECTION} (bytes pending with window, waiting for the connection's writer
     * to pull them) or null (nothing waits). The engine calls it only when that changes, inside
     * the call that changed it, with that call's time; the owner measures the waits (nothing here
     * is per byte). By default it is ignored.
     *
     * @param cause what the bytes wait for now, or null
     * @param pending bytes waiting now
     * @param now the time of the engine call
     */
    default void sendWait(StallCause cause, int pending, long now) {
    }

    /**
     * Makes the sides of each new stream. The engine calls it once per stream, inside the call
     * that admits it: {@link SmuxEngine#openStream} for a stream opened here, {@link SmuxEngine#handleInput}
     * for a SYN the peer sent. It must not call the engine.
     */
    interface Factory {
        /**
         * @param id the new stream's id
         * @return its sides
         */
        StreamSides create(int id);
    }
}
