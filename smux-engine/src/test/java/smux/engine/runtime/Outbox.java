package smux.engine.runtime;

import java.nio.ByteBuffer;

/**
 * What the outbox scenarios call: {@link SendSide}'s methods, so that the same scenarios run against
 * the real class and against {@link FlawedSendSide}.
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
        SendSide s = new SendSide();
        return new Outbox() {
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
        };
    }
}
