package smux.engine.runtime;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * What the receive-side scenarios call: {@link ReceiveSide}'s methods, so that the same scenarios
 * run against the real class and against {@link FlawedReceiveSide}.
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
        ReceiveSide r = new ReceiveSide(pool, report);
        return new Inbox() {
            @Override
            public void append(ByteBuffer src, int n) {
                r.append(src, n);
            }

            @Override
            public void finish() {
                r.finish();
            }

            @Override
            public void requestConsumption(long total) {
                r.requestConsumption(total);
            }

            @Override
            public long consumed() {
                return r.consumed();
            }

            @Override
            public void fail(IOException error, boolean drop) {
                r.fail(error, drop);
            }

            @Override
            public int read(ByteBuffer dst, String op) throws IOException {
                return r.read(dst, op);
            }

            @Override
            public void close() {
                r.close();
            }

            @Override
            public long dropped() {
                return r.dropped();
            }
        };
    }
}
