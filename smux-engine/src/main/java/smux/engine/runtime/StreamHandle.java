package smux.engine.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import smux.api.Session;
import smux.api.SessionClosedException;
import smux.api.SmuxStream;
import smux.api.StallCause;
import smux.api.StallStats;
import smux.api.StreamClosedException;
import smux.engine.Inbound;
import smux.engine.Outbound;
import smux.engine.SmuxEngine;
import smux.engine.StreamSides;
import smux.engine.StreamView;

/**
 * A stream as the application sees it: blocking reads and writes with timeouts. It reads from
 * its {@link ReceiveSide} and writes through its {@link SendSide}, which are the stream's two sides
 * in the engine too ({@link StreamSides}: the session makes the handle when the engine admits the
 * stream), and tells the session what it did through {@link Ops}; it never takes the engine's lock
 * to read or write.
 *
 * <p>A write posts the caller's buffer and parks until the session's pump has copied all of it
 * (the commit point), the deadline passes, or the stream or session ends; then it withdraws what
 * was not copied, and the {@link SendSide} makes that count exact (guarantee 2).
 */
final class StreamHandle implements SmuxStream, StreamSides, ReceiveSideOwner {
    /**
     * What a stream handle may ask of its session: to pass its application's news on to the pump,
     * and whether the session is over. The news calls never block or take the engine's lock while
     * the session runs; {@link #closed} and {@link #receiveWindow} are control calls.
     */
    interface Ops {
        /** A write was posted or withdrawn, or writing was closed. */
        void outboundChanged(StreamHandle stream);

        /** The application read as much as the engine asked to hear about. */
        void consumedDue(StreamHandle stream);

        /**
         * The application closed the stream: the engine sends FIN (after committed bytes) and forgets
         * it before this returns (a control call: it takes the engine's lock briefly).
         */
        void closed(StreamHandle stream);

        /** @return the receive window the stream advertises now, 0 if none (a control call) */
        int receiveWindow(StreamHandle stream);

        /** @return the exception for a session that is over, or null while it runs */
        SessionClosedException sessionError();

        /** @return the session, for {@link SmuxStream#session()} */
        Session session();

        /** @return where the session sums its streams' finished stalls */
        StreamStalls.Totals stallTotals();
    }

    // Work bits for the pump (see SessionPump#post).
    static final int OUTBOUND = 1;
    static final int CONSUMED = 2;

    private static final VarHandle WORK;
    private static final VarHandle STALLS;
    private static final VarHandle WRITE_SERIAL;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            WORK = l.findVarHandle(StreamHandle.class, "work", int.class);
            STALLS = l.findVarHandle(StreamHandle.class, "stalls", StreamStalls.class);
            WRITE_SERIAL = l.findVarHandle(StreamHandle.class, "writeSerial", ReentrantLock.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // An idle stream holds no more than it needs (issue 20: heap per idle stream): its stall
    // accounting and its writers' lock are made when first needed, and the pump's work bits are a
    // field of the handle, not an object of their own.
    private final int id;
    private final Ops ops;
    final ReceiveSide rx;
    final SendSide tx;
    /** The stream's stall accounting, made when it first waits for anything (see {@link #stalls()}); null before. */
    private volatile StreamStalls stalls;
    /** What the pump has yet to learn about this stream: OUTBOUND and CONSUMED bits (see {@link #addWork}). */
    private volatile int work;
    /** Serializes the stream's writers; made by the first write. */
    private volatile ReentrantLock writeSerial;
    /** Neighbours in the session's list of the streams the application holds ({@link SessionStreams}, under its lock). */
    StreamHandle heldPrev;
    StreamHandle heldNext;
    private volatile long writeTimeoutNanos;
    private volatile boolean closedLocally;
    /** Why the engine ended the stream (shed, refused or reset by the peer), or null. */
    private volatile IOException reset;
    private InputStream in;
    private OutputStream out;

    StreamHandle(int id, Ops ops, SegmentPool pool) {
        this.id = id;
        this.ops = ops;
        this.rx = new ReceiveSide(pool, this);
        this.tx = new SendSide();
    }

    /**
     * Adds a work bit for the pump.
     *
     * @return the bits before, or -1 if {@code bit} was set already (nothing changed)
     */
    int addWork(int bit) {
        int before;
        do {
            before = work;
            if ((before & bit) != 0) {
                return -1;
            }
        } while (!WORK.compareAndSet(this, before, before | bit));
        return before;
    }

    /** @return the work bits, cleared (the pump takes them) */
    int takeWork() {
        return (int) WORK.getAndSet(this, 0);
    }

    /** @return the stall accounting, made now if this is the stream's first wait */
    private StreamStalls stalls() {
        StreamStalls s = stalls;
        if (s == null) {
            s = new StreamStalls(id, ops.stallTotals(), ops.session());
            if (!STALLS.compareAndSet(this, null, s)) {
                s = stalls; // another thread made it first
            }
        }
        return s;
    }

    /** @return the stalls going on now (none finished), for the session's sum */
    StallStats ongoingStalls() {
        StreamStalls s = stalls;
        return s == null ? StreamStalls.NONE : s.snapshot(rx.bufferedIn(), false);
    }

    // ------------------------------------------------------------------ ReceiveSideOwner

    @Override
    public void consumptionDue() {
        ops.consumedDue(this);
    }

    @Override
    public void holdBegins(long mark) {
        stalls().holdBegins(mark);
    }

    @Override
    public void holdEnds(long mark) {
        StreamStalls s = stalls;
        if (s != null) {
            s.holdEnds(mark);
        }
    }

    @Override
    public int id() {
        return id;
    }

    /**
     * @param engine the session's engine (the pump's lock held)
     * @return the engine's view of this stream, or null if the engine forgot it (its id may be another stream's now)
     */
    StreamView viewIn(SmuxEngine engine) {
        StreamView v = engine.stream(id);
        return v != null && v.sides() == this ? v : null;
    }

    @Override
    public Inbound inbound() {
        return rx;
    }

    @Override
    public Outbound outbound() {
        return tx;
    }

    @Override
    public Session session() {
        return ops.session();
    }

    @Override
    public void sendWait(StallCause cause, int pending, long now) {
        StreamStalls s = cause == null ? stalls : stalls();
        if (s != null) {
            s.send(cause, pending, now);
        }
    }

    @Override
    public StallStats stallStats() {
        StreamStalls s = stalls;
        return s == null ? StreamStalls.NONE : s.snapshot(rx.bufferedIn(), true);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        Objects.requireNonNull(dst, "dst");
        if (closedLocally) {
            throw closedException("read from");
        }
        return rx.read(dst, this);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        Objects.requireNonNull(src, "src");
        long start = System.nanoTime();
        int startPosition = src.position();
        ReentrantLock serial = acquireWriteSerial(start);
        try {
            if (closedLocally) {
                throw closedException("write to");
            }
            SessionClosedException over = ops.sessionError();
            if (over != null) {
                throw over;
            }
            if (!src.hasRemaining()) {
                return 0;
            }
            if (reset != null) {
                throw resetError(-1);
            }
            if (!tx.post(src)) {
                throw new StreamClosedException(name() + " is closed for writing (closeWrite or close was called)");
            }
            ops.outboundChanged(this);
            while (!tx.ended()) {
                int committed = stopIfDue(src, start);
                if (committed >= 0) {
                    return committed; // the write ended exactly as it was stopped: all of it committed
                }
                long timeout = writeTimeoutNanos;
                tx.await(timeout == 0 ? -1 : Math.max(1, start + timeout - System.nanoTime()));
            }
            if (src.hasRemaining()) {
                if (reset != null) {
                    throw resetError(tx.committed());
                }
                // ended without all of it: a close of the stream withdrew the rest
                throw new StreamClosedException(name() + " was closed during a write; " + tx.committed()
                        + " bytes of that write were committed");
            }
            return src.position() - startPosition;
        } finally {
            serial.unlock();
        }
    }

    /**
     * Ends the write in progress if its stream or session ended, its deadline passed, or the
     * thread was interrupted: withdraws the rest and throws, with the exact committed count.
     *
     * @return -1 to go on waiting, or the write's length if it turned out to be committed in full
     */
    private int stopIfDue(ByteBuffer src, long start) throws IOException {
        if (closedLocally) {
            int committed = tx.withdraw();
            if (!src.hasRemaining()) {
                return committed;
            }
            throw new StreamClosedException(name() + " was closed during a write; " + committed
                    + " bytes of that write were committed");
        }
        SessionClosedException over = ops.sessionError();
        long timeout = writeTimeoutNanos;
        boolean late = timeout != 0 && System.nanoTime() - (start + timeout) >= 0;
        boolean interrupted = Thread.interrupted();
        if (over == null && !late && !interrupted) {
            return -1;
        }
        int committed = tx.withdraw();
        ops.outboundChanged(this);
        if (!src.hasRemaining()) {
            // Every byte was committed before the end (the pump copied the last frame, then the
            // session ended or the deadline passed before this thread woke): the write is done, as
            // it would have been had this thread run first. Failing it would say sent data was not sent.
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            return committed;
        }
        if (over != null) {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            throw over; // the buffer's position already tells what was committed
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
            InterruptedIOException e = new InterruptedIOException("interrupted while writing to " + name() + "; "
                    + committed + " of its bytes were committed and will be sent, the rest never will");
            e.bytesTransferred = committed;
            throw e;
        }
        SocketTimeoutException e = new SocketTimeoutException("write on " + name() + " timed out after "
                + TimeUnit.NANOSECONDS.toMillis(timeout) + " ms; " + committed
                + " of its bytes were committed and will be sent, the rest never will");
        e.bytesTransferred = committed;
        throw e;
    }

    /** @return the writers' lock, held */
    private ReentrantLock acquireWriteSerial(long start) throws IOException {
        ReentrantLock writeSerial = this.writeSerial;
        if (writeSerial == null) {
            ReentrantLock made = new ReentrantLock();
            writeSerial = WRITE_SERIAL.compareAndSet(this, null, made) ? made : this.writeSerial;
        }
        try {
            long timeout = writeTimeoutNanos;
            if (timeout == 0) {
                writeSerial.lockInterruptibly();
            } else if (!writeSerial.tryLock(Math.max(0, start + timeout - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                SocketTimeoutException e = new SocketTimeoutException("write on " + name()
                        + " timed out waiting for another write on the same stream; nothing was committed");
                e.bytesTransferred = 0;
                throw e;
            }
            return writeSerial;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for another write on " + name());
        }
    }

    @Override
    public void closeWrite() throws IOException {
        if (closedLocally) {
            throw closedException("half-close");
        }
        SessionClosedException over = ops.sessionError();
        if (over != null) {
            throw over;
        }
        if (tx.closeWrite()) {
            ops.outboundChanged(this);
        }
    }

    @Override
    public void close() {
        if (closedLocally) {
            return;
        }
        closedLocally = true;
        rx.close();
        StreamStalls s = stalls;
        if (s != null) {
            s.endAll(rx.bufferedIn());
        }
        tx.release(); // a write in progress ends here, with what was committed
        tx.wake();
        ops.closed(this);
    }

    @Override
    public boolean isOpen() {
        return !closedLocally && reset == null && ops.sessionError() == null;
    }

    @Override
    public int available() {
        return closedLocally ? 0 : rx.available();
    }

    @Override
    public int receiveWindow() {
        return closedLocally ? 0 : ops.receiveWindow(this);
    }

    @Override
    public void setReadTimeout(Duration timeout) {
        rx.setTimeout(toNanos("read", timeout)); // kept there only: the receive side is where reads wait
    }

    @Override
    public Duration readTimeout() {
        return Duration.ofNanos(rx.timeout());
    }

    @Override
    public void setWriteTimeout(Duration timeout) {
        writeTimeoutNanos = toNanos("write", timeout);
        tx.wake();
    }

    @Override
    public Duration writeTimeout() {
        return Duration.ofNanos(writeTimeoutNanos);
    }

    /** The engine ended the stream (inside an engine call): reads and writes fail with {@code why} from now on. */
    @Override
    public void reset(IOException why, boolean dropUnread) {
        reset = why;
        rx.fail(why, dropUnread);
        tx.release(); // a write in progress ends here, with what was committed
        tx.wake();
    }

    /** @return the reset's exception for this operation, with the committed count of a write in progress */
    private IOException resetError(int committed) {
        IOException why = reset;
        String message = why.getMessage() + (committed >= 0 ? "; " + committed + " bytes of the write in progress were committed" : "");
        IOException e = why instanceof smux.api.LimitExceededException
                ? new smux.api.LimitExceededException(message) : new StreamClosedException(message);
        e.initCause(why);
        return e;
    }

    /** The session ended: wakes whoever waits on this stream. */
    void sessionEnded(SessionClosedException error, boolean local) {
        rx.fail(error, local);
        sendWait(null, 0, System.nanoTime()); // nothing is sent any more; unread bytes may still be read
        tx.wake();
    }

    private static long toNanos(String what, Duration timeout) {
        Objects.requireNonNull(timeout, what + " timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException(what + " timeout must not be negative (use Duration.ZERO for none), got " + timeout);
        }
        return timeout.toNanos();
    }

    private StreamClosedException closedException(String op) {
        return new StreamClosedException("cannot " + op + " " + name() + ": it was closed");
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

    /** For messages only: built when one is needed, so an idle stream does not hold it. */
    private String name() {
        return "stream " + Integer.toUnsignedString(id);
    }

    @Override
    public String toString() {
        return "smux " + name() + " of " + ops.session();
    }

    /** The InputStream view: each read is one {@link #read(ByteBuffer)}. */
    private static final class StreamInput extends InputStream {
        /**
         * {@link #transferTo}'s buffer: two of the 32 KiB frames xtaci and smux send, so a reader that wakes takes
         * everything it finds in one read. InputStream's own (8 KiB on Java 17) cost four reads per frame, and an
         * echo made 8 KiB frames of each.
         */
        private static final int TRANSFER_BUFFER = 64 * 1024;
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
        public long transferTo(OutputStream out) throws IOException {
            Objects.requireNonNull(out, "out");
            byte[] buffer = new byte[TRANSFER_BUFFER];
            long total = 0;
            int n;
            while ((n = read(buffer, 0, buffer.length)) >= 0) {
                out.write(buffer, 0, n);
                total += n;
            }
            return total;
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
