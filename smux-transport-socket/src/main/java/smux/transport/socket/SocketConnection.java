package smux.transport.socket;

import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import smux.api.SmuxConfig;
import smux.engine.FrameCodec;
import smux.engine.runtime.CloseLinger;
import smux.engine.runtime.Transport;
import smux.engine.runtime.SessionLink;
import smux.engine.runtime.SessionStarter;

/**
 * Moves one session's bytes over a socket with two threads. This class is what both I/O modes
 * share: the threads' lives, their wake-ups, and every call into the session. How bytes cross the
 * socket is the mode's (the subclass's), chosen by how the socket was made: through its
 * {@link java.nio.channels.SocketChannel} if it has one (what {@code Smux.connect} and
 * {@code Smux.server} make), else through its blocking streams (a plain {@link Socket}, TLS included).
 *
 * <ul>
 *   <li>The writer pulls frames from the session into its staging buffer (many frames per pull)
 *       and writes them to the socket. Between pulls it parks until there is something to send
 *       or a timer is due; {@link #transmitReady} unparks it.</li>
 *   <li>The reader reads the socket and feeds the session. Its reads time out at the next timer
 *       deadline so that timers run even while the writer is stuck on a full socket: a silent peer
 *       is detected by its keepalive timeout regardless.</li>
 * </ul>
 *
 * <p>This class keeps its own state (volatile flags, and thread permits for waking): it never
 * holds a lock while it calls the session, and the session's calls into it ({@link Transport}) only
 * set a flag and unpark a thread, so neither can wait on the other. A wake-up is never lost:
 * a thread checks the session's state after its permit may have been set, and a permit given
 * before the thread parks makes the park return at once.
 *
 * <p>Whichever thread finishes last closes the socket and tells the session.
 */
abstract class SocketConnection implements SessionStarter.Connection {
    /** {@link #read} result: the session is stopping, end the reader quietly. */
    static final int STOP = -2;
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    final Socket socket;
    final SessionLink link;
    /**
     * Pulled frames not yet written, flipped: the writer thread's (in channel mode, the write
     * token's holder's, which may be an application thread; see {@link #beginWrite}).
     */
    final ByteBuffer staging;
    /** What the reader reads into: its thread's, and a lingering writer's once the reader has ended. */
    final ByteBuffer input;
    private final Optional<ThreadFactory> threadFactory;
    /** How long a clean close waits for the peer to close its end (see {@link #lingerForPeer}). */
    private final Duration closeTimeout;
    private final AtomicInteger running = new AtomicInteger(2);
    private final AtomicBoolean socketClosed = new AtomicBoolean();
    /** Bytes the socket accepted so far: added to by whoever writes, read by a closing thread. */
    volatile long written;
    /** A closing session gave up on the flush: what the writer has left is reported as dropped. */
    private volatile boolean forced;
    volatile boolean stopping;
    private volatile boolean flushOnStop;
    private volatile Thread writerThread;
    private volatile Thread readerThread;
    /** Set by whoever wakes the writer (reader), cleared by it before it looks at the session. */
    private volatile boolean writerWoken;
    private volatile boolean readerWoken;
    /** Set once the output is shut after a clean flush: from then on input is read and dropped. */
    private volatile CloseLinger linger;

    SocketConnection(Socket socket, SessionLink link, SmuxConfig config, ByteBuffer staging, ByteBuffer input) {
        this.socket = socket;
        this.link = link;
        this.staging = staging.limit(0);
        this.input = input.limit(0);
        this.threadFactory = config.threadFactory();
        this.closeTimeout = config.closeTimeout();
    }

    @Override
    public void launch() {
        Thread reader;
        Thread writer;
        try {
            ThreadFactory factory = threadFactory.orElse(SocketConnection::daemon);
            int n = SEQUENCE.incrementAndGet();
            reader = named(factory.newThread(this::readLoop), "smux-socket-reader-" + n);
            writer = named(factory.newThread(this::writeLoop), "smux-socket-writer-" + n);
        } catch (RuntimeException e) {
            releaseIo(); // no thread runs: nobody else will
            throw e;
        }
        readerThread = reader;
        writerThread = writer;
        reader.start();
        writer.start();
    }

    private static Thread daemon(Runnable r) {
        Thread t = new Thread(r);
        t.setDaemon(true);
        return t;
    }

    private static Thread named(Thread t, String name) {
        try {
            t.setName(name);
        } catch (SecurityException ignored) {
            // a custom factory's name stays
        }
        return t;
    }

    // ------------------------------------------------------------------ the I/O mode's part

    /**
     * Writes the frames in {@link #staging} to the socket, adding what the socket accepts to
     * {@link #written}. On failure the position stands where delivery is known to have stopped:
     * a close that gives up counts from there what it dropped ({@link FrameCodec#payloadNotDelivered}).
     */
    abstract void write(ByteBuffer src) throws IOException;

    /**
     * Reads into {@code into} (cleared first, flipped after), waiting until bytes arrive and
     * running the session's timers at their deadlines meanwhile.
     *
     * @return bytes read, -1 at end-of-stream, or {@link #STOP} if the session stopped while it waited
     */
    abstract int read(ByteBuffer into) throws IOException;

    /** Drops input (into {@link #input}) until the peer's end or the linger's deadline. */
    abstract void dropInput(CloseLinger linger) throws IOException;

    /** A forced close: shuts the output (see {@link smux.engine.runtime.ForcedClose}). */
    abstract void shutOutputForForcedClose();

    /**
     * The writer takes this around each pull and write. In channel mode it is the write token,
     * which an application thread that just posted may hold instead, to send at once.
     */
    void beginWrite() {
    }

    void endWrite() {
    }

    /** Wakes a thread waiting in the mode's own wait (a selector) rather than parked. */
    void wakeWaits() {
    }

    /** Releases what the mode holds besides the socket (selectors); the last thread out calls it. */
    void releaseIo() {
    }

    // ------------------------------------------------------------------ Transport (any thread)

    @Override
    public void transmitReady() {
        writerWoken = true;
        unpark(writerThread);
    }

    @Override
    public void inputReady() {
        readerWoken = true;
        unpark(readerThread);
    }

    private static void unpark(Thread t) {
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    @Override
    public void shutdown(boolean flush) {
        flushOnStop = flush;
        stopping = true;
        transmitReady();
        inputReady();
        wakeWaits();
        if (!flush) {
            closeSocket();
        }
    }

    @Override
    public void forceClose() {
        forced = true;
        shutOutputForForcedClose();
        closeSocket();
        transmitReady(); // a writer waiting for work finds the socket closed and counts what it drops
    }

    @Override
    public long bytesWritten() {
        return written;
    }

    // ------------------------------------------------------------------ the writer

    private void writeLoop() {
        boolean flushed = false;
        try {
            while (true) {
                awaitWork();
                beginWrite();
                try {
                    if (stopping && (!flushOnStop || (!staging.hasRemaining() && link.isFlushed()))) {
                        flushed = flushOnStop;
                        return;
                    }
                    if (!staging.hasRemaining()) {
                        staging.clear();
                        link.pull(staging);
                        staging.flip();
                    }
                    if (staging.hasRemaining()) {
                        write(staging);
                    }
                } finally {
                    endWrite();
                }
            }
        } catch (IOException e) {
            if (stopping && flushOnStop && staging.hasRemaining()) {
                // A local close's flush ended early (it gave up, or the connection failed): the
                // position is exactly what the socket accepted (see write).
                link.committedBytesAbandoned(FrameCodec.payloadNotDelivered(staging, staging.position()),
                        forced ? null : e);
            }
            if (!stopping) {
                link.onTransportError(e);
            }
        } catch (RuntimeException | Error e) {
            link.onTransportError(new IOException("the writer failed: " + e, e));
            throw e;
        } finally {
            try {
                if (flushed && !forced) {
                    lingerForPeer();
                }
            } finally {
                threadDone(true);
            }
        }
    }

    /**
     * Waits until there may be something to write: frames in the engine, bytes an application
     * thread left in the staging buffer, or the session stopping (the caller decides, holding the
     * write token, whether to end).
     */
    private void awaitWork() {
        while (true) {
            writerWoken = false; // see park: a wake-up from here on is not lost
            if (stopping || staging.hasRemaining() || link.wantsTransmit()) {
                return;
            }
            long wait = link.nanosUntilDeadline();
            if (wait == 0) {
                link.runTimers();
                continue;
            }
            if (!writerWoken) {
                park(wait);
            }
            if (Thread.interrupted()) {
                // nobody interrupts the writer but a closing executor: end like a close
                Thread.currentThread().interrupt();
                closeSocket();
                stopping = true;
                return;
            }
        }
    }

    /**
     * A clean close ({@link CloseLinger}): the output is shut, and the reader drops input until
     * the peer's end; once the reader has ended (or if it had already), this thread drops it.
     */
    private void lingerForPeer() {
        CloseLinger l = CloseLinger.afterFlush(socket, closeTimeout);
        if (l == null) {
            return;
        }
        linger = l;
        inputReady();
        wakeWaits();
        while (!socketClosed.get() && running.get() > 1) {
            long left = l.nanosLeft();
            if (left <= 0) {
                return;
            }
            LockSupport.parkNanos(left); // the reader unparks us when it ends
        }
        if (!socketClosed.get()) {
            try {
                dropInput(l);
            } catch (IOException ignored) {
                // the peer reset or the socket closed: either way the linger is over
            }
        }
    }

    // ------------------------------------------------------------------ the reader

    private void readLoop() {
        ByteBuffer pending = input;
        try {
            while (true) {
                CloseLinger l = linger;
                if (l != null) {
                    dropInput(l);
                    return;
                }
                if (!pending.hasRemaining()) {
                    int n = read(pending);
                    if (n == STOP) {
                        return;
                    }
                    if (n < 0) {
                        link.onEof();
                        return;
                    }
                }
                if (!awaitInputWanted()) {
                    return; // the session is over (a lingering writer drops the input itself)
                }
                link.onInput(pending);
            }
        } catch (IOException e) {
            if (!stopping) {
                link.onTransportError(e);
            }
        } catch (RuntimeException | Error e) {
            link.onTransportError(new IOException("the reader failed: " + e, e));
            throw e;
        } finally {
            threadDone(false);
        }
    }

    /** Version 1: waits while the receive budget is spent. @return false if the session is over */
    private boolean awaitInputWanted() {
        while (true) {
            readerWoken = false; // see park: a wake-up from here on is not lost
            if (link.wantsInput()) {
                return true;
            }
            if (stopping) {
                return false;
            }
            long wait = link.nanosUntilDeadline();
            if (wait == 0) {
                link.runTimers();
                continue;
            }
            if (!readerWoken) {
                park(wait); // a closing session wakes us too (shutdown sets stopping first)
            }
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                closeSocket();
                return false;
            }
        }
    }

    /**
     * Parks until unparked, or {@code nanos} pass (negative: no limit). The caller clears its
     * woken flag before it looks at the session and parks only if the flag is still clear: the
     * session's calls take locks, and a thread that parks inside a lock acquisition uses up a
     * permit meant for this park, so the flag, not the permit, is what carries a wake-up.
     */
    private static void park(long nanos) {
        if (nanos < 0) {
            LockSupport.park();
        } else {
            LockSupport.parkNanos(nanos);
        }
    }

    // ------------------------------------------------------------------ the end

    /**
     * One thread ended. The writer always closes the socket (after a flush and its linger, or on
     * failure), which also ends a reader blocked on it; a reader leaving quietly during a flush
     * must not. The last thread out tells the session.
     */
    private void threadDone(boolean writer) {
        if (writer) {
            closeSocket();
        }
        int left = running.decrementAndGet();
        if (!writer) {
            unpark(writerThread); // a lingering writer waits for this
        }
        if (left == 0) {
            closeSocket();
            releaseIo();
            link.connectionClosed();
        }
    }

    final void closeSocket() {
        if (socketClosed.compareAndSet(false, true)) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing is all we wanted
            }
            wakeWaits(); // a thread waiting on a selector does not notice the channel closing
        }
    }

    @Override
    public String toString() {
        return "socket connection " + socket;
    }
}
