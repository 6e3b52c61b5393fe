package smux.engine.runtime;

import java.nio.ByteBuffer;
import java.util.function.Supplier;

/**
 * A {@link SendSide} seen as an {@link Outbox}. {@link FlawedVariants} reuses this class's bytecode
 * for each flawed variant, with every reference to SendSide (and to this class) renamed to the
 * variant's: so it holds only plain calls, and makes its instances through {@link Factory} (a plain
 * {@code new}, not reflection, inside the checked schedules).
 */
final class SendSideOutbox implements Outbox {
    private final SendSide s = new SendSide();

    /** Makes the outboxes of one class: the real one here, a flawed variant's in its renamed copy. */
    static final class Factory implements Supplier<Outbox> {
        @Override
        public Outbox get() {
            return new SendSideOutbox();
        }
    }

    @Override
    public boolean post(ByteBuffer buffer) {
        return s.post(buffer);
    }

    @Override
    public boolean ended() {
        return s.ended();
    }

    @Override
    public int committed() {
        return s.committed();
    }

    @Override
    public int withdraw() {
        return s.withdraw();
    }

    @Override
    public void await(long nanos) {
        s.await(nanos);
    }

    @Override
    public boolean closeWrite() {
        return s.closeWrite();
    }

    @Override
    public void wake() {
        s.wake();
    }

    @Override
    public void release() {
        s.release();
    }

    @Override
    public int pending() {
        return s.pending();
    }

    @Override
    public int commit(ByteBuffer dst, int n) {
        return s.commit(dst, n);
    }

    @Override
    public boolean writeClosed() {
        return s.writeClosed();
    }

    @Override
    public String toString() {
        return s.toString();
    }
}
