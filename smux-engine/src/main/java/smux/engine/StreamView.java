package smux.engine;

/**
 * One stream of an engine, as its caller sees it ({@link SmuxEngine#stream}): its state, its
 * receive window, and the news about its sides that the engine must hear. The view is the stream
 * itself, so asking for it allocates nothing. Like the engine, it is not thread-safe: call it from
 * the engine's (single) caller. Once the stream is closed the engine forgets it: {@link SmuxEngine#stream}
 * no longer finds it, and calls on a view kept from before do nothing.
 */
public interface StreamView {
    /** @return the stream's id */
    int id();

    /** @return its sides, as the {@link StreamSides.Factory} made them */
    StreamSides sides();

    /** @return its state */
    StreamState state();

    /** @return the receive window its last UPD advertised (version 2; the initial one before any) */
    int receiveWindow();

    /** @return the path's round trip its window tuner measured (the smallest sample), nanoseconds; 0 if none yet or not tuned */
    long measuredRoundTrip();

    /** @return received bytes of this stream not yet reported consumed (its share of {@link SmuxEngine#bufferedBytes()}) */
    long bufferedBytes();

    /**
     * The application has read {@code total} bytes of the stream in all. May queue a window update
     * (version 2) or free budget (version 1); then asks the inbound for the next report
     * ({@link Inbound#requestConsumption}).
     *
     * @param total bytes consumed in all (never less than reported before)
     */
    void consumed(long total);

    /**
     * The outbound changed: a write was posted (the stream may now be scheduled), or withdrawn, or
     * writing was closed (its FIN may now be due).
     */
    void outboundChanged();

    /**
     * Closes the stream and forgets it: FIN is queued if it was not sent (after every committed
     * byte; the owner ends its write in progress first), unread bytes are dropped from the
     * accounting, and later frames for the stream are ignored. Calling it again does nothing.
     */
    void close();
}
