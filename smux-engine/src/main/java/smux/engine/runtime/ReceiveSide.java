package smux.engine.runtime;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import smux.api.StreamClosedException;
import smux.engine.Inbound;

/**
 * A stream's receive side: the bytes the engine accepted for it, which the application reads
 * without the session's lock. Guarded by a lock of its own, held only for copies and flags.
 *
 * <p>Theory of operation. The session's pump appends (after the engine checked the stream's
 * window). A reader that finds nothing posts its destination buffer and waits; the pump then
 * copies straight into it, one copy fewer than through the buffer, until the buffer would take the
 * bytes out of order. The reader is signalled only when the stream goes from empty to non-empty,
 * not once per frame. The reader counts what it consumed; when the total reaches what the engine
 * asked for ({@link #requestConsumption}: the next window update in version 2, steps in version 1)
 * it tells the pump, once, so consumption flows back in batches.
 *
 * <p>Public, with {@link #poll}, for the engine's benchmarks, which drive production sides on one
 * thread; the package is exported to the transports only.
 */
public final class ReceiveSide implements Inbound {
    private final ReentrantLock lock = new ReentrantLock();
    /** Where readers wait; made by the first reader that waits (under the lock), so an idle stream has none. */
    private Condition readable;
    private final SegmentPool pool;
    /** The unread bytes: {@link ReceiveBuffer#NONE} until the first byte no reader took, so an idle stream has no buffer of its own. */
    private ReceiveBuffer buffer = ReceiveBuffer.NONE;
    /** Told when consumption is due and when unread bytes start and stop waiting (its stream's handle). */
    private final ReceiveSideOwner owner;
    private boolean finished;
    private IOException failure;
    private boolean closed;
    /** The session ended locally with bytes still buffered: they were dropped, so no clean end-of-stream. */
    private boolean droppedAtEnd;
    /** A waiting reader's buffer, which the pump fills directly while nothing else is buffered. */
    private ByteBuffer waiting;
    /** Bytes put straight into {@link #waiting}. */
    private int direct;
    private long consumed;
    private long reportAt = Long.MAX_VALUE;
    private long dropped;
    /** Bytes ever put into {@link #buffer} (not those handed straight to a reader): marks for the stall accounting. */
    private long bufferedIn;
    /** The stream's read timeout in nanoseconds (0: none); a waiting read sees a change at once. */
    private volatile long timeoutNanos;

    /**
     * @param pool the session's segments
     * @param report tells the pump that consumption is due (it then asks {@link #consumed()});
     *     a side made this way keeps no stall accounting (the engine's tests and benchmarks)
     */
    public ReceiveSide(SegmentPool pool, Runnable report) {
        this(pool, ReceiveSideOwner.reportingTo(report));
    }

    /**
     * @param pool the session's segments
     * @param owner told when consumption is due and when bytes wait unread: the stream's handle
     *     itself, so an idle stream carries no callback object of its own
     */
    ReceiveSide(SegmentPool pool, ReceiveSideOwner owner) {
        this.pool = pool;
        this.owner = owner;
    }

    // ------------------------------------------------------------------ Inbound: the pump

    @Override
    public void append(ByteBuffer src, int n) {
        lock.lock();
        try {
            if (closed) {
                src.position(src.position() + n); // the application closed it; the engine forgets it soon
                dropped += n;
                return;
            }
            boolean bufferWasEmpty = buffer.size() == 0;
            boolean wasEmpty = bufferWasEmpty && direct == 0;
            if (waiting != null && bufferWasEmpty && waiting.hasRemaining()) {
                int k = Math.min(n, waiting.remaining());
                waiting.put(waiting.position(), src, src.position(), k);
                waiting.position(waiting.position() + k);
                src.position(src.position() + k);
                direct += k;
                n -= k;
            }
            if (n > 0) {
                buffer().append(src, n);
                bufferedIn += n;
                if (bufferWasEmpty) {
                    owner.holdBegins(bufferedIn - n); // no reader took them: they wait unread
                }
            }
            // Wake readers when the stream goes from empty to non-empty, and also when the buffer
            // does while bytes wait in one reader's own buffer: those are that reader's alone, and
            // another reader, already woken and gone back to waiting, must see the buffered ones.
            if (wasEmpty || (bufferWasEmpty && buffer.size() > 0)) {
                signalReaders();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void finish() {
        lock.lock();
        try {
            finished = true;
            signalReaders();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void requestConsumption(long total) {
        boolean due;
        lock.lock();
        try {
            due = consumed >= total;
            reportAt = due ? Long.MAX_VALUE : total;
        } finally {
            lock.unlock();
        }
        if (due) {
            owner.consumptionDue();
        }
    }

    @Override
    public long consumed() {
        lock.lock();
        try {
            return consumed;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The session is over. Reads return what is buffered (unless {@code drop}), then end-of-stream
     * if the peer had finished and nothing was dropped, else throw {@code error}.
     */
    void fail(IOException error, boolean drop) {
        lock.lock();
        try {
            if (failure == null) {
                failure = error;
            }
            if (drop) {
                long n = buffer.clear();
                dropped += n;
                // Bytes thrown away must not end in a clean end-of-stream, even if the peer's FIN
                // had arrived behind them: the reader gets the session's error instead.
                if (n > 0) {
                    droppedAtEnd = true;
                }
                owner.holdEnds(bufferedIn);
            }
            signalReaders();
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ the application

    /** Sets the read timeout (0: none) and wakes a waiting reader to measure against it. */
    void setTimeout(long nanos) {
        timeoutNanos = nanos;
        wake();
    }

    /** @return the read timeout in nanoseconds (0: none) */
    long timeout() {
        return timeoutNanos;
    }

    /**
     * Reads into {@code dst}, waiting up to the read timeout for a byte.
     *
     * @param op the stream's description, for messages
     * @return bytes read, or -1 at end-of-stream
     */
    int read(ByteBuffer dst, Object op) throws IOException {
        return read(dst, op, true);
    }

    /**
     * Reads what is there now, never waiting: the core of the blocking {@link #read}, for a caller
     * that drives the stream on its own thread (the engine's tests and benchmarks).
     *
     * @param dst where the bytes go
     * @param op the stream's description, for messages
     * @return bytes read; 0 if none are buffered (or {@code dst} is full); -1 at end-of-stream
     * @throws StreamClosedException if the application closed the stream
     * @throws IOException the session's failure, once nothing is left to read
     */
    public int poll(ByteBuffer dst, Object op) throws IOException {
        return read(dst, op, false);
    }

    /** Takes bytes (waiting for them if {@code wait}), counts them, and reports them if the engine asked. */
    private int read(ByteBuffer dst, Object op, boolean wait) throws IOException {
        int n;
        boolean due;
        lock.lock();
        try {
            n = wait ? takeWaiting(dst, op, System.nanoTime()) : take(dst, op);
            due = n > 0 && consumedMore(n);
        } finally {
            lock.unlock();
        }
        if (due) {
            owner.consumptionDue();
        }
        return n;
    }

    /** As {@link #take}, but waits up to the read timeout for a byte. Lock held. */
    private int takeWaiting(ByteBuffer dst, Object op, long start) throws IOException {
        while (true) {
            int n = take(dst, op);
            if (n != 0 || !dst.hasRemaining()) {
                return n;
            }
            long timeout = timeoutNanos;
            long left = timeout == 0 ? -1 : start + timeout - System.nanoTime();
            if (timeout != 0 && left <= 0) {
                throw new SocketTimeoutException("read on " + op + " timed out after "
                        + TimeUnit.NANOSECONDS.toMillis(timeout) + " ms");
            }
            if (readable == null) {
                readable = lock.newCondition();
            }
            boolean mine = waiting == null; // one reader at a time gets bytes straight into its buffer
            if (mine) {
                waiting = dst;
            }
            try {
                if (left < 0) {
                    readable.await();
                } else {
                    readable.awaitNanos(left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (mine && direct > 0) {
                    return takeDirect(); // bytes already in the caller's buffer are read, not lost
                }
                throw new InterruptedIOException("interrupted while reading " + op);
            } finally {
                if (mine) {
                    waiting = null;
                }
            }
            if (mine && direct > 0) {
                return takeDirect();
            }
        }
    }

    /** Takes buffered bytes, or says why there are none. Lock held. @return bytes, 0 for none yet, -1 at the end */
    private int take(ByteBuffer dst, Object op) throws IOException {
        if (closed) {
            throw new StreamClosedException("cannot read from " + op + ": it was closed");
        }
        if (buffer.size() > 0) {
            int n = buffer.read(dst);
            if (buffer.size() == 0) {
                owner.holdEnds(bufferedIn);
            }
            return n;
        }
        if (finished && !droppedAtEnd) {
            return -1;
        }
        if (failure != null) {
            throw failure;
        }
        return 0;
    }

    /** Counts {@code n} bytes read. Lock held. @return whether the engine asked to hear of it now (asked once) */
    private boolean consumedMore(int n) {
        consumed += n;
        if (consumed < reportAt) {
            return false;
        }
        reportAt = Long.MAX_VALUE; // the engine asks again when it wants to hear
        return true;
    }

    private int takeDirect() {
        int n = direct;
        direct = 0;
        return n;
    }

    /** @return bytes that can be read without waiting */
    int available() {
        lock.lock();
        try {
            return (int) Math.min(Integer.MAX_VALUE, buffer.size());
        } finally {
            lock.unlock();
        }
    }

    /** The application closed the stream: unread bytes are dropped, a waiting reader fails. */
    void close() {
        lock.lock();
        try {
            closed = true;
            dropped += buffer.clear();
            owner.holdEnds(bufferedIn);
            signalReaders();
        } finally {
            lock.unlock();
        }
    }

    /** @return the stream's own buffer, made now if it had none (the first bytes to wait unread). Lock held. */
    private ReceiveBuffer buffer() {
        if (buffer == ReceiveBuffer.NONE) {
            buffer = new ReceiveBuffer(pool);
        }
        return buffer;
    }

    /** Wakes every waiting reader. Lock held. */
    private void signalReaders() {
        if (readable != null) {
            readable.signalAll();
        }
    }

    /** Wakes a waiting reader, to look at its deadline again. */
    private void wake() {
        lock.lock();
        try {
            signalReaders();
        } finally {
            lock.unlock();
        }
    }

    /** @return bytes ever buffered here (not handed straight to a reader): the mark {@link StreamStalls} counts from */
    long bufferedIn() {
        lock.lock();
        try {
            return bufferedIn;
        } finally {
            lock.unlock();
        }
    }

    /** @return bytes received but dropped here (the stream or the session was closed) */
    long dropped() {
        lock.lock();
        try {
            return dropped;
        } finally {
            lock.unlock();
        }
    }
}
