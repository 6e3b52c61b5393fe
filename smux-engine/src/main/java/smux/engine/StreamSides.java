package smux.engine;

/**
 * The two sides of one stream: where its received bytes go and where its outgoing bytes wait.
 * Every stream has them from birth: the engine asks its {@link Factory} for them when it admits
 * the stream, and reaches the stream's bytes through them alone. The object belongs to whoever
 * made it (the session runtime makes its stream handle); the engine keeps it as the stream's
 * attachment ({@link StreamView#sides()}) and never looks at it otherwise.
 */
public interface StreamSides {
    /** @return where the stream's received bytes go */
    Inbound inbound();

    /** @return where the stream's outgoing bytes wait */
    Outbound outbound();

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
