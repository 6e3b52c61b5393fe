package smux.engine.runtime;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * What the receive-side scenarios call: {@link ReceiveSide}'s methods, so that the same scenarios
 * run against the real class and against each flawed variant of it ({@link ReceiveSideInbox},
 * {@link ReceiveSideFlaw}).
 */
interface Inbox {
    void append(ByteBuffer src, int n);

    void finish();

    void requestConsumption(long total);

    long consumed();

    void fail(IOException error, boolean drop);

    int read(ByteBuffer dst, String op) throws IOException;

    void close();

    long dropped();

    /** Makes an inbox over a pool of segments, reporting consumption to {@code report}. */
    interface Factory {
        Inbox create(SegmentPool pool, Runnable report);
    }

    /** @return the real {@link ReceiveSide} */
    static Inbox real(SegmentPool pool, Runnable report) {
        return new ReceiveSideInbox(pool, report);
    }
}
