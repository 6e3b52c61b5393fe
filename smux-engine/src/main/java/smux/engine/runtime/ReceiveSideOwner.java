package smux.engine.runtime;

/**
 * What a {@link ReceiveSide} tells its stream: that consumption is due, and when unread bytes
 * start and stop waiting (the stall accounting's marks). The stream's handle is its own receive
 * side's owner, so an idle stream carries no callback object. A file of its own, not a nested
 * type of ReceiveSide: the model-checked tests compile patched copies of ReceiveSide alone.
 */
interface ReceiveSideOwner {
    /** The application read as much as the engine asked to hear about (the pump then asks {@link ReceiveSide#consumed()}). */
    void consumptionDue();

    /** Received bytes start waiting in the buffer, which was empty; {@code mark} counts what was buffered before them. The side's lock held. */
    void holdBegins(long mark);

    /** The buffer is empty again (read, or dropped); {@code mark} counts every byte buffered so far. The side's lock held. */
    void holdEnds(long mark);

    /** @return an owner that only passes consumption on to {@code report}, keeping no stall accounting */
    static ReceiveSideOwner reportingTo(Runnable report) {
        return new ReceiveSideOwner() {
            @Override
            public void consumptionDue() {
                report.run();
            }

            @Override
            public void holdBegins(long mark) {
            }

            @Override
            public void holdEnds(long mark) {
            }
        };
    }
}
