package smux.engine.runtime;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import smux.api.StreamClosedException;

/**
 * A copy of {@link ReceiveSide} with one deliberate flaw, chosen by {@link Flaw}: what the
 * receive-side scenarios must catch. Apart from the flawed lines (marked FLAW) it is the real
 * class's logic, trimmed of comments and of read timeouts (the scenarios wait without one).
 */
final class FlawedReceiveSide implements Inbox {
    enum Flaw {
        /** append signals the reader, lets go of the lock, and only then publishes the bytes. */
        SIGNAL_BEFORE_PUBLISH,
        /** append decides whether the stream was empty after copying into the waiting reader's buffer. */
        EMPTY_CHECKED_AFTER_DIRECT_COPY,
        /** A read past the requested total reports it, and does not forget the request. */
        REPORT_NOT_FORGOTTEN,
        /** A reader woken by a close throws, forgetting bytes already copied into its buffer. */
        CLOSE_FORGETS_DIRECT_BYTES,
        /**
         * Readers are signalled only when nothing at all was waiting, so bytes buffered behind
         * another reader's direct copy wake nobody (this project's ReceiveSide had it, see its
         * history).
         */
        BUFFERED_BEHIND_DIRECT_COPY_WAKES_NOBODY,
    }

    private final Flaw flaw;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition readable = lock.newCondition();
    private final ReceiveBuffer buffer;
    private final Runnable report;
    private boolean finished;
    private IOException failure;
    private boolean closed;
    private ByteBuffer waiting;
    private int direct;
    private long consumed;
    private long reportAt = Long.MAX_VALUE;
    private long dropped;

    FlawedReceiveSide(Flaw flaw, SegmentPool pool, Runnable report) {
        this.flaw = flaw;
        this.buffer = new ReceiveBuffer(pool);
        this.report = report;
    }

    @Override
    public void append(ByteBuffer src, int n) {
        lock.lock();
        try {
            if (closed) {
                src.position(src.position() + n);
                dropped += n;
                return;
            }
            boolean bufferWasEmpty = buffer.size() == 0;
            boolean wasEmpty = bufferWasEmpty && direct == 0;
            if (flaw == Flaw.SIGNAL_BEFORE_PUBLISH) {
                if (wasEmpty) {
                    readable.signalAll(); // FLAW: the reader may look before the bytes are there
                }
                lock.unlock();
                lock.lock();
                buffer.append(src, n);
                return;
            }
            if (waiting != null && bufferWasEmpty && waiting.hasRemaining()) {
                int k = Math.min(n, waiting.remaining());
                waiting.put(waiting.position(), src, src.position(), k);
                waiting.position(waiting.position() + k);
                src.position(src.position() + k);
                direct += k;
                n -= k;
            }
            if (n > 0) {
                buffer.append(src, n);
            }
            if (flaw == Flaw.EMPTY_CHECKED_AFTER_DIRECT_COPY) {
                wasEmpty = buffer.size() == 0 && direct == 0; // FLAW: never true once bytes went in
            }
            boolean overflowed = bufferWasEmpty && buffer.size() > 0
                    && flaw != Flaw.BUFFERED_BEHIND_DIRECT_COPY_WAKES_NOBODY; // FLAW when it is
            if (wasEmpty || overflowed) {
                readable.signalAll();
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
            readable.signalAll();
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
            report.run();
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

    @Override
    public void fail(IOException error, boolean drop) {
        lock.lock();
        try {
            if (failure == null) {
                failure = error;
            }
            if (drop) {
                dropped += buffer.clear();
            }
            readable.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int read(ByteBuffer dst, String op) throws IOException {
        int n;
        boolean due;
        lock.lock();
        try {
            while (true) {
                if (closed) {
                    throw new StreamClosedException("cannot read from " + op + ": it was closed");
                }
                if (buffer.size() > 0) {
                    n = buffer.read(dst);
                    break;
                }
                if (finished) {
                    return -1;
                }
                if (failure != null) {
                    throw failure;
                }
                if (!dst.hasRemaining()) {
                    return 0;
                }
                boolean mine = waiting == null;
                if (mine) {
                    waiting = dst;
                }
                try {
                    readable.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while reading " + op);
                } finally {
                    if (mine) {
                        waiting = null;
                    }
                }
                if (flaw == Flaw.CLOSE_FORGETS_DIRECT_BYTES && closed) {
                    throw new StreamClosedException("cannot read from " + op + ": it was closed"); // FLAW
                }
                if (mine && direct > 0) {
                    n = direct;
                    direct = 0;
                    break;
                }
            }
            consumed += n;
            due = consumed >= reportAt;
            if (due && flaw != Flaw.REPORT_NOT_FORGOTTEN) { // FLAW when it is
                reportAt = Long.MAX_VALUE;
            }
        } finally {
            lock.unlock();
        }
        if (due) {
            report.run();
        }
        return n;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            dropped += buffer.clear();
            readable.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long dropped() {
        lock.lock();
        try {
            return dropped;
        } finally {
            lock.unlock();
        }
    }
}
