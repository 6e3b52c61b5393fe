package smux.engine.runtime;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A copy of {@link SendSide} with one deliberate flaw, chosen by {@link Flaw}: what the outbox
 * scenarios must catch, so that a passing run of them against the real class means something.
 * Apart from the flawed lines (marked FLAW) it is the real class's logic, trimmed of comments.
 */
final class FlawedSendSide implements Outbox {
    enum Flaw {
        /** withdraw checks for POSTED, then writes IDLE with a plain set instead of a CAS. */
        WITHDRAW_CHECKS_THEN_SETS,
        /** post checks that writing is open, then writes POSTED with a plain set instead of a CAS. */
        POST_CHECKS_THEN_SETS,
        /** The copier that ends a write does not unpark the writer waiting for it to end. */
        COPY_END_WAKES_NOBODY,
        /**
         * Every withdrawer parks, a thread other than the writer after writing itself into one
         * field for the copier to unpark (the design this project's SendSide had: a writer
         * withdrawing at the same time overwrites the field, or the copy ends between the closer's
         * reading COPYING and its writing the field, and the closer sleeps forever).
         */
        CLOSER_PARKS_IN_ONE_SLOT,
        /**
         * The committed count is read off the buffer, which release lets go of (the miscount this
         * project's SendSide had, see its history).
         */
        COUNT_FROM_RELEASED_BUFFER,
    }

    private static final int IDLE = 0;
    private static final int POSTED = 1;
    private static final int COPYING = 2;
    private static final int PHASE = 3;
    private static final int WRITE_CLOSED = 4;
    private static final int WITHDRAW = 8;

    private final Flaw flaw;
    private final AtomicInteger state = new AtomicInteger(IDLE);
    private ByteBuffer src;
    private int copied;
    private int start;
    private volatile Thread writer;
    private volatile Thread withdrawer;

    FlawedSendSide(Flaw flaw) {
        this.flaw = flaw;
    }

    @Override
    public boolean post(ByteBuffer buffer) {
        src = buffer;
        copied = 0;
        start = buffer.position();
        writer = Thread.currentThread();
        while (true) {
            int s = state.get();
            if ((s & WRITE_CLOSED) != 0) {
                src = null;
                return false;
            }
            if (s != IDLE) {
                throw new IllegalStateException("a write is already posted");
            }
            if (flaw == Flaw.POST_CHECKS_THEN_SETS) {
                state.set(POSTED); // FLAW: a closeWrite since the check is overwritten
                return true;
            }
            if (state.compareAndSet(IDLE, POSTED)) {
                return true;
            }
        }
    }

    @Override
    public boolean ended() {
        return (state.get() & PHASE) == IDLE;
    }

    @Override
    public int committed() {
        if (flaw == Flaw.COUNT_FROM_RELEASED_BUFFER) {
            ByteBuffer b = src; // FLAW: null once released
            return b == null ? 0 : b.position() - start;
        }
        return copied;
    }

    @Override
    public int withdraw() {
        while (true) {
            int s = state.get();
            int phase = s & PHASE;
            if (phase == IDLE) {
                break;
            }
            if (phase == POSTED) {
                if (flaw == Flaw.WITHDRAW_CHECKS_THEN_SETS) {
                    state.set(s & ~(PHASE | WITHDRAW)); // FLAW: a copy begun since the check goes on
                    break;
                }
                if (state.compareAndSet(s, s & ~(PHASE | WITHDRAW))) {
                    break;
                }
            } else if (flaw == Flaw.CLOSER_PARKS_IN_ONE_SLOT) {
                withdrawer = Thread.currentThread(); // FLAW: one slot, written late
                if ((s & WITHDRAW) != 0 || state.compareAndSet(s, s | WITHDRAW)) {
                    LockSupport.park(this);
                }
            } else if ((s & WITHDRAW) != 0 || state.compareAndSet(s, s | WITHDRAW)) {
                if (Thread.currentThread() == writer) {
                    LockSupport.park(this);
                } else {
                    Thread.yield();
                }
            }
        }
        return committed();
    }

    @Override
    public void await(long nanos) {
        if (ended()) {
            return;
        }
        if (nanos < 0) {
            LockSupport.park(this);
        } else if (nanos > 0) {
            LockSupport.parkNanos(this, nanos);
        }
    }

    @Override
    public boolean closeWrite() {
        while (true) {
            int s = state.get();
            if ((s & WRITE_CLOSED) != 0) {
                return false;
            }
            if (state.compareAndSet(s, s | WRITE_CLOSED)) {
                return true;
            }
        }
    }

    @Override
    public void wake() {
        Thread t = writer;
        if (t != null) {
            LockSupport.unpark(t);
        }
        Thread w = withdrawer; // set only with CLOSER_PARKS_IN_ONE_SLOT
        if (w != null && w != t) {
            LockSupport.unpark(w);
        }
    }

    @Override
    public void release() {
        closeWrite();
        withdraw();
        src = null;
    }

    @Override
    public int pending() {
        ByteBuffer b = src;
        return (state.get() & PHASE) == POSTED && b != null ? b.remaining() : 0;
    }

    @Override
    public int commit(ByteBuffer dst, int n) {
        int s;
        do {
            s = state.get();
            if ((s & PHASE) != POSTED) {
                return 0;
            }
        } while (!state.compareAndSet(s, (s & ~PHASE) | COPYING));
        ByteBuffer b = src;
        n = Math.min(n, b.remaining());
        dst.put(dst.position(), b, b.position(), n);
        dst.position(dst.position() + n);
        b.position(b.position() + n);
        copied += n;
        boolean left = b.hasRemaining();
        int next;
        do {
            s = state.get();
            boolean ends = !left || (s & WITHDRAW) != 0;
            next = ends ? s & ~(PHASE | WITHDRAW) : (s & ~PHASE) | POSTED;
        } while (!state.compareAndSet(s, next));
        if ((next & PHASE) == IDLE && flaw != Flaw.COPY_END_WAKES_NOBODY) { // FLAW when it is
            wake();
        }
        return n;
    }

    @Override
    public boolean writeClosed() {
        return (state.get() & WRITE_CLOSED) != 0;
    }
}
