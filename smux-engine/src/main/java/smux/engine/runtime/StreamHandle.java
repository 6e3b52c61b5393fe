package smux.engine.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import smux.api.Session;
import smux.api.SmuxStream;
import smux.api.StreamClosedException;

/**
 * A stream as the application sees it: blocking reads and writes with timeouts over the engine's
 * stream of the same id. Every engine call happens under the session's lock; waits release it.
 *
 * <p>The exact write timeout is enforced in {@link #write}: the engine holds the caller's buffer
 * and copies from it only when the connection's writer pulls frames; when the deadline passes,
 * {@link smux.engine.SmuxEngine#withdraw} ends the write under the same lock, so the committed
 * count it returns is final, and the buffer's position already stands right after those bytes.
 */
final class StreamHandle implements SmuxStream {
    private final SessionCore core;
    private final int id;
    final Condition readable;
    final Condition writable;
    private final ReentrantLock writeSerial = new ReentrantLock();
    private volatile long readTimeoutNanos;
    private volatile long writeTimeoutNanos;
    private boolean closedLocally;
    private int committedAtClose = -1;
    private InputStream in;
    private OutputStream out;

    StreamHandle(SessionCore core, int id) {
        this.core = core;
        this.id = id;
        this.readable = core.lock.newCondition();
        this.writable = core.lock.newCondition();
    }

    @Override
    public int id() {
        return id;
    }

    @Override
    public Session session() {
        return core;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        Objects.requireNonNull(dst, "dst");
        long start = System.nanoTime();
        core.lock.lock();
        try {
            while (true) {
                if (closedLocally) {
                    throw closedException("read from");
                }
                int n = core.engine.read(id, dst);
                if (n != 0 || !dst.hasRemaining()) {
                    if (n > 0) {
                        core.afterEngineCall(); // a window update may be due
                    }
                    return n;
                }
                long timeout = readTimeoutNanos;
                long left = timeout == 0 ? -1 : start + timeout - System.nanoTime();
                if (timeout != 0 && left <= 0) {
                    throw new SocketTimeoutException("read on stream " + Integer.toUnsignedString(id) + " timed out after "
                            + TimeUnit.NANOSECONDS.toMillis(timeout) + " ms");
                }
                SessionCore.await(readable, left);
            }
        } finally {
            core.lock.unlock();
        }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        Objects.requireNonNull(src, "src");
        long start = System.nanoTime();
        int startPosition = src.position();
        acquireWriteSerial(start);
        try {
            core.lock.lock();
            try {
                if (closedLocally) {
                    throw closedException("write to");
                }
                core.engine.write(id, src);
                core.afterEngineCall();
                Telemetry.Stall stall = null;
                while (isWriting(src)) {
                    long timeout = writeTimeoutNanos;
                    long left = timeout == 0 ? -1 : start + timeout - System.nanoTime();
                    if (timeout != 0 && left <= 0) {
                        int committed = core.engine.withdraw(id);
                        core.afterEngineCall();
                        SocketTimeoutException e = new SocketTimeoutException("write on stream " + Integer.toUnsignedString(id)
                                + " timed out after " + TimeUnit.NANOSECONDS.toMillis(timeout) + " ms; "
                                + committed + " of its bytes were committed and will be sent, the rest never will");
                        e.bytesTransferred = committed;
                        throw e;
                    }
                    if (stall == null) {
                        stall = Telemetry.stallBegins("stream write waited for window or connection", id);
                    }
                    try {
                        SessionCore.await(writable, left);
                    } catch (InterruptedIOException e) {
                        int committed = core.engine.withdraw(id);
                        core.afterEngineCall();
                        e.bytesTransferred = Math.max(0, committed);
                        throw e;
                    }
                }
                if (stall != null) {
                    Telemetry.stallEnds(stall, core);
                }
                return src.position() - startPosition;
            } finally {
                core.lock.unlock();
            }
        } finally {
            writeSerial.unlock();
        }
    }

    /** @return whether the write in progress still has uncommitted bytes; throws if it cannot go on */
    private boolean isWriting(ByteBuffer src) throws IOException {
        if (closedLocally) {
            throw new StreamClosedException("stream " + Integer.toUnsignedString(id) + " was closed during a write; "
                    + Math.max(0, committedAtClose) + " bytes of that write were committed");
        }
        if (core.engine.isClosed()) {
            if (!src.hasRemaining()) {
                // Every byte was committed before the session ended (the writer pulled the last frame,
                // then the connection closed before this thread woke): the write is done, as it would
                // have been had this thread run first. Failing it would tell the caller that sent data
                // was not sent.
                return false;
            }
            core.engine.withdraw(id); // the buffer's position already tells what was committed
            throw core.engine.closeError();
        }
        return core.engine.isWriting(id);
    }

    private void acquireWriteSerial(long start) throws IOException {
        try {
            long timeout = writeTimeoutNanos;
            if (timeout == 0) {
                writeSerial.lockInterruptibly();
            } else if (!writeSerial.tryLock(Math.max(0, start + timeout - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                SocketTimeoutException e = new SocketTimeoutException("write on stream " + Integer.toUnsignedString(id)
                        + " timed out waiting for another write on the same stream; nothing was committed");
                e.bytesTransferred = 0;
                throw e;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for another write on stream "
                    + Integer.toUnsignedString(id));
        }
    }

    @Override
    public void closeWrite() throws IOException {
        core.lock.lock();
        try {
            if (closedLocally) {
                throw closedException("half-close");
            }
            core.engine.closeWrite(id);
            core.afterEngineCall();
        } finally {
            core.lock.unlock();
        }
    }

    @Override
    public void close() {
        core.lock.lock();
        try {
            if (closedLocally) {
                return;
            }
            closedLocally = true;
            committedAtClose = core.engine.closeStream(id);
            core.forget(this);
            readable.signalAll();
            writable.signalAll();
            core.afterEngineCall();
        } finally {
            core.lock.unlock();
        }
    }

    @Override
    public boolean isOpen() {
        core.lock.lock();
        try {
            return !closedLocally && !core.engine.isClosed();
        } finally {
            core.lock.unlock();
        }
    }

    @Override
    public int available() {
        core.lock.lock();
        try {
            if (closedLocally || !core.engine.hasStream(id)) {
                return 0;
            }
            return (int) Math.min(Integer.MAX_VALUE, core.engine.available(id));
        } catch (StreamClosedException e) {
            return 0;
        } finally {
            core.lock.unlock();
        }
    }

    @Override
    public void setReadTimeout(Duration timeout) {
        readTimeoutNanos = toNanos("read", timeout);
        wake(true);
    }

    @Override
    public Duration readTimeout() {
        return Duration.ofNanos(readTimeoutNanos);
    }

    @Override
    public void setWriteTimeout(Duration timeout) {
        writeTimeoutNanos = toNanos("write", timeout);
        wake(false);
    }

    @Override
    public Duration writeTimeout() {
        return Duration.ofNanos(writeTimeoutNanos);
    }

    private void wake(boolean reader) {
        core.lock.lock();
        try {
            (reader ? readable : writable).signalAll();
        } finally {
            core.lock.unlock();
        }
    }

    private static long toNanos(String what, Duration timeout) {
        Objects.requireNonNull(timeout, what + " timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException(what + " timeout must not be negative (use Duration.ZERO for none), got " + timeout);
        }
        return timeout.toNanos();
    }

    private StreamClosedException closedException(String op) {
        return new StreamClosedException("cannot " + op + " stream " + Integer.toUnsignedString(id) + ": it was closed");
    }

    @Override
    public synchronized InputStream inputStream() {
        if (in == null) {
            in = new StreamInput(this);
        }
        return in;
    }

    @Override
    public synchronized OutputStream outputStream() {
        if (out == null) {
            out = new StreamOutput(this);
        }
        return out;
    }

    @Override
    public String toString() {
        return "smux stream " + Integer.toUnsignedString(id) + " of " + core;
    }

    /** The InputStream view: each read is one {@link #read(ByteBuffer)}. */
    private static final class StreamInput extends InputStream {
        private final StreamHandle stream;

        StreamInput(StreamHandle stream) {
            this.stream = stream;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) {
                return 0;
            }
            return stream.read(ByteBuffer.wrap(b, off, len));
        }

        @Override
        public int available() {
            return stream.available();
        }

        @Override
        public void close() {
            stream.close();
        }
    }

    /** The OutputStream view: unbuffered, each write is one {@link #write(ByteBuffer)}. */
    private static final class StreamOutput extends OutputStream {
        private final StreamHandle stream;

        StreamOutput(StreamHandle stream) {
            this.stream = stream;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            ByteBuffer src = ByteBuffer.wrap(b, off, len);
            while (src.hasRemaining()) {
                stream.write(src);
            }
        }

        @Override
        public void close() {
            stream.close();
        }
    }
}
