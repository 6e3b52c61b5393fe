package smux.engine.runtime;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.LockSupport;
import smux.engine.Outbound;

/**
 * A stream's outbox: where an application's write waits for the session's pump to copy it
 * into the staging buffer, and <b>the one place guarantee 2 is enforced</b> (a timed-out write
 * reports exactly what was committed, and the rest is never sent).
 *
 * <p>Theory of operation. One atomic word holds the phase and two flags:
 * <pre>
 *   phase   IDLE ──post──▶ POSTED ──commit begins──▶ COPYING ──commit ends──▶ POSTED (bytes left)
 *                             │                                          └──▶ IDLE   (none left, or
 *                             └──withdraw──▶ IDLE                                 withdraw requested)
 *   flags   WRITE_CLOSED: no more posts; the FIN may leave once nothing is pending
 *           WITHDRAW: the writer gave up while a copy was running; that copy ends the write
 * </pre>
 * The pump copies only after moving POSTED to COPYING, and the writer withdraws only by moving
 * POSTED to IDLE; both are compare-and-sets on the same word, so a copy either starts before the
 * withdraw (and finishes, and counts) or never starts. A writer that finds a copy running sets
 * WITHDRAW and parks; the copier, ending its copy, sees the flag, ends the write there and unparks
 * it (the writer's identity was published before POSTED, so the copier always finds it). Another
 * thread that withdraws (a close) sets WITHDRAW too but yields until the copy ends instead of
 * parking: nothing would tell the copier about it in time, and a copy is one frame's memcpy.
 * The committed count is then what the copier counted, which moved the writer's buffer's
 * position as far, only while COPYING; the CAS that ends COPYING publishes both.
 *
 * <p>No locks: the writer parks with {@link LockSupport} (virtual threads are never pinned), the
 * copier never waits.
 *
 * <p>Public, with {@link #post} and {@link #ended}, for the engine's benchmarks, which drive
 * production sides on one thread; the package is exported to the transports only.
 */
public final class SendSide implements Outbound {
    static final int IDLE = 0;
    static final int POSTED = 1;
    static final int COPYING = 2;
    private static final int PHASE = 3;
    static final int WRITE_CLOSED = 4;
    static final int WITHDRAW = 8;

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(SendSide.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The phase and flags; changed only by {@link #cas} (a field, not an atomic object: an idle stream's heap counts). */
    private volatile int state = IDLE;
    /** The buffer of the write in progress: set before POSTED is published, moved only while COPYING. */
    private ByteBuffer src;
    /**
     * Bytes of the write in progress committed so far: reset before POSTED is published, counted
     * only while COPYING. Kept apart from {@code src}, which {@link #release} lets go of while a
     * timed-out writer may still be about to ask it.
     */
    private int copied;
    private volatile Thread writer;

    private boolean cas(int expected, int next) {
        return STATE.compareAndSet(this, expected, next);
    }

    // ------------------------------------------------------------------ the writing thread

    /**
     * Posts a write. The caller holds the stream's write serial (one write at a time) and then
     * tells the pump ({@link StreamHandle.Ops#outboundChanged}).
     *
     * @param buffer the bytes, left untouched by the caller until the write ends
     * @return false if writing was closed (nothing was posted)
     * @throws IllegalStateException if a write is posted already (writes on one stream must be serialized)
     */
    public boolean post(ByteBuffer buffer) {
        src = buffer;
        copied = 0;
        writer = Thread.currentThread();
        while (true) {
            int s = state;
            if ((s & WRITE_CLOSED) != 0) {
                src = null;
                return false;
            }
            if (s != IDLE) {
                throw new IllegalStateException("a write is already posted: writes on one stream must be serialized");
            }
            if (cas(IDLE, POSTED)) {
                return true;
            }
        }
    }

    /** @return whether the write in progress has ended: every byte committed, or withdrawn */
    public boolean ended() {
        return (state & PHASE) == IDLE;
    }

    /** @return bytes of the current (or last) write committed so far; exact once {@link #ended()} */
    int committed() {
        return copied;
    }

    /**
     * Ends the write in progress: bytes not yet copied will never be. Waits only while a copy of
     * at most one frame is running: the writing thread parks, any other thread yields.
     *
     * @return bytes of the write committed, all of them if it had already ended
     */
    int withdraw() {
        while (true) {
            int s = state;
            int phase = s & PHASE;
            if (phase == IDLE) {
                break;
            }
            if (phase == POSTED) {
                if (cas(s, s & ~(PHASE | WITHDRAW))) {
                    break;
                }
            } else if ((s & WITHDRAW) != 0 || cas(s, s | WITHDRAW)) {
                if (Thread.currentThread() == writer) {
                    LockSupport.park(this); // the copier ends the write and unparks the writer
                } else {
                    // A closing thread: nothing would make the copier unpark it reliably (a field
                    // naming it is overwritten by a writer withdrawing at the same time, or written
                    // just after the copier looked), and the copy is one frame's memcpy.
                    Thread.yield();
                }
            }
        }
        return committed();
    }

    /** Parks the writer until the write ends, it is woken, or {@code nanos} pass (negative: no limit). */
    void await(long nanos) {
        if (ended()) {
            return;
        }
        if (nanos < 0) {
            LockSupport.park(this);
        } else if (nanos > 0) {
            LockSupport.parkNanos(this, nanos);
        }
    }

    /** @return the buffer of the write in progress (its position tells what was committed) */
    ByteBuffer buffer() {
        return src;
    }

    // ------------------------------------------------------------------ any thread

    /**
     * Closes writing: no write may be posted any more; the FIN leaves after a write in progress.
     * The caller then tells the pump.
     *
     * @return false if it was closed already
     */
    boolean closeWrite() {
        while (true) {
            int s = state;
            if ((s & WRITE_CLOSED) != 0) {
                return false;
            }
            if (cas(s, s | WRITE_CLOSED)) {
                return true;
            }
        }
    }

    /** @return whether writing was closed */
    boolean isWriteClosed() {
        return (state & WRITE_CLOSED) != 0;
    }

    /** Wakes the writing thread, to look again at its deadline or at why the stream or session ended. */
    void wake() {
        Thread t = writer;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    // ------------------------------------------------------------------ Outbound: the pump

    @Override
    public int pending() {
        ByteBuffer b = src; // read after the phase: a write posted since brings its own buffer
        return (state & PHASE) == POSTED && b != null ? b.remaining() : 0;
    }

    /** The stream is closed: no write will be posted again; lets go of the last buffer. */
    void release() {
        closeWrite();
        withdraw();
        src = null;
    }

    @Override
    public int commit(ByteBuffer dst, int n) {
        int s;
        do {
            s = state;
            if ((s & PHASE) != POSTED) {
                return 0; // withdrawn since pending() was asked
            }
        } while (!cas(s, (s & ~PHASE) | COPYING));
        ByteBuffer b = src;
        n = Math.min(n, b.remaining()); // pending() may have seen the write before this one
        dst.put(dst.position(), b, b.position(), n);
        dst.position(dst.position() + n);
        b.position(b.position() + n);
        copied += n;
        boolean left = b.hasRemaining();
        int next;
        do {
            s = state;
            boolean ends = !left || (s & WITHDRAW) != 0;
            next = ends ? s & ~(PHASE | WITHDRAW) : (s & ~PHASE) | POSTED;
        } while (!cas(s, next));
        if ((next & PHASE) == IDLE) {
            wake();
        }
        return n;
    }

    @Override
    public boolean writeClosed() {
        return isWriteClosed();
    }

    @Override
    public String toString() {
        int s = state;
        return "SendSide{" + new String[] {"IDLE", "POSTED", "COPYING", "?"}[s & PHASE]
                + ((s & WRITE_CLOSED) != 0 ? ", write closed" : "") + ((s & WITHDRAW) != 0 ? ", withdraw" : "") + '}';
    }
}
