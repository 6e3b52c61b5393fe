package smux.engine.runtime;

import java.nio.ByteBuffer;

/**
 * What the outbox scenarios call: {@link SendSide}'s methods, so that the same scenarios run against
 * the real class and against each flawed variant of it ({@link SendSideOutbox}, {@link SendSideFlaw}).
 */
interface Outbox {
    boolean post(ByteBuffer buffer);

    boolean ended();

    int committed();

    int withdraw();

    void await(long nanos);

    boolean closeWrite();

    void wake();

    void release();

    int pending();

    int commit(ByteBuffer dst, int n);

    boolean writeClosed();

    /** @return the real {@link SendSide} */
    static Outbox real() {
        return new SendSideOutbox();
    }
}
