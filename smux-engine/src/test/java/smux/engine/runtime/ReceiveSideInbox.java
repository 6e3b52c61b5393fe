package smux.engine.runtime;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A {@link ReceiveSide} seen as an {@link Inbox}. {@link FlawedVariants} reuses this class's
 * bytecode for each flawed variant, with every reference to ReceiveSide (and to this class) renamed
 * to the variant's: so it holds only plain calls, and makes its instances through {@link Factory}
 * (a plain {@code new}, not reflection, inside the checked schedules).
 */
final class ReceiveSideInbox implements Inbox {
    private final ReceiveSide r;

    ReceiveSideInbox(SegmentPool pool, Runnable report) {
        r = new ReceiveSide(pool, report);
    }

    /** Makes the inboxes of one class: the real one here, a flawed variant's in its renamed copy. */
    static final class Factory implements Inbox.Factory {
        @Override
        public Inbox create(SegmentPool pool, Runnable report) {
            return new ReceiveSideInbox(pool, report);
        }
    }

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
}
