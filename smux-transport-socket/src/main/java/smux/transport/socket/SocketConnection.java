package smux.transport.socket;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import smux.api.Session;
import smux.api.SmuxConfig;
import smux.engine.FrameCodec;
import smux.engine.runtime.Transport;
import smux.engine.runtime.ForcedClose;
import smux.engine.runtime.SessionLink;
import smux.engine.runtime.SmuxSession;

/**
 * Moves one session's bytes over a socket with two threads.
 *
 * <p>A socket made by a {@link SocketChannel} (what {@code Smux.connect} and {@code Smux.server}
 * use) is driven through the channel in non-blocking mode with direct buffers: the kernel copies
 * straight into and out of them, where the socket's streams would copy every byte once more
 * through a temporary direct buffer; each thread waits on its own small selector, with the next
 * timer deadline as its timeout. A plain {@link Socket} is driven through its blocking streams.
 *
 * <ul>
 *   <li>The writer pulls frames from the session into its staging buffer (many frames per pull)
 *       and writes the buffer with one socket write. Between pulls it parks until there is
 *       something to send or a timer is due; {@link #transmitReady} unparks it.</li>
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
 * Whichever thread finishes last closes the socket and tells the session.
 */
final class SocketConnection implements Transport {
    private static final int READ_BUFFER = 64 * 1024;
    /** Channel reads go into a direct buffer this large: fewer reads, and more frames per lock hold. */
    private static final int CHANNEL_READ_BUFFER = 256 * 1024;
    /** {@link #readWithTimers} result: the session is stopping, end the reader quietly. */
    private static final int STOP = -2;
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    private final Socket socket;
    /** The socket's channel, in non-blocking mode, or null for a plain socket. */
    private final SocketChannel channel;
    private volatile Selector readSelector;
    private volatile Selector writeSelector;
    private final SessionLink core;
    private final int stagingSize;
    private final AtomicInteger running = new AtomicInteger(2);
    private final AtomicBoolean socketClosed = new AtomicBoolean();
    /** Bytes the socket accepted so far: written by the writer only, read by a closing thread. */
    private volatile long written;
    /** A closing session gave up on the flush: what the writer has left is reported as dropped. */
    private volatile boolean forced;
    private volatile boolean stopping;
    private volatile boolean flushOnStop;
    private volatile Thread writerThread;
    private volatile Thread readerThread;
    /**
     * Channel mode: who may write the socket. The writer thread takes it for each pull and write;
     * an application thread that just posted may take it to send at once (see
     * {@link #transmitFromCaller}). Whoever holds it owns {@link #staging}.
     */
    private final AtomicBoolean writeToken = new AtomicBoolean();
    /**
     * Channel mode: the staging buffer, flipped: its remaining bytes are pulled frames not yet
     * written (what an application thread's non-blocking write left for the writer thread).
     */
    private ByteBuffer staging;
    /** Set by whoever wakes the writer (reader), cleared by it before it looks at the session. */
    private volatile boolean writerWoken;
    private volatile boolean readerWoken;
    /** How long a clean close waits for the peer to close its end (see {@link #lingerForPeer}). */
    private final long lingerNanos;
    /** Set once the output is shut after a clean flush: from then on input is read and dropped. */
    private volatile boolean lingering;
    private volatile long lingerDeadline;

    private SocketConnection(Socket socket, SessionLink core, SmuxConfig config) {
        this.socket = socket;
        this.channel = socket.getChannel();
        this.core = core;
        this.stagingSize = config.stagingBufferSize();
        this.lingerNanos = config.closeTimeout().toNanos();
    }

    static Session start(Socket socket, boolean client, SmuxConfig config) throws IOException {
        SmuxSession session;
        SocketConnection conn = null;
        try {
            socket.setTcpNoDelay(true);
            session = SmuxSession.create(client, config, SocketTransportProvider.NAME,
                    socket.getLocalSocketAddress(), socket.getRemoteSocketAddress());
            conn = new SocketConnection(socket, session.link(), config);
            InputStream in;
            OutputStream out;
            if (conn.channel != null) {
                conn.staging = ByteBuffer.allocateDirect(conn.stagingSize).limit(0);
                conn.channel.configureBlocking(false);
                conn.readSelector = Selector.open();
                conn.writeSelector = Selector.open();
                conn.channel.register(conn.readSelector, SelectionKey.OP_READ);
                conn.channel.register(conn.writeSelector, SelectionKey.OP_WRITE);
                in = null;
                out = null;
            } else {
                in = socket.getInputStream();
                out = socket.getOutputStream();
            }
            session.start(conn);
            ThreadFactory factory = config.threadFactory().orElse(SocketConnection::daemon);
            int n = SEQUENCE.incrementAndGet();
            SocketConnection c = conn;
            Thread reader = factory.newThread(() -> c.readLoop(in));
            Thread writer = factory.newThread(() -> c.writeLoop(out));
            name(reader, "smux-socket-reader-" + n);
            name(writer, "smux-socket-writer-" + n);
            c.readerThread = reader;
            c.writerThread = writer;
            reader.start();
            writer.start();
        } catch (IOException | RuntimeException e) {
            socket.close();
            if (conn != null) {
                conn.closeSelectors();
            }
            throw e;
        }
        try {
            session.awaitProbe();
        } catch (IOException e) {
            session.close();
            throw e;
        }
        return session;
    }

    private static Thread daemon(Runnable r) {
        Thread t = new Thread(r);
        t.setDaemon(true);
        return t;
    }

    private static void name(Thread t, String name) {
        try {
            t.setName(name);
        } catch (SecurityException ignored) {
            // a custom factory's name stays
        }
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

    /**
     * Sends on the application's thread when nobody else is writing: pulls (only if the engine is
     * free) into the staging buffer and writes what the socket takes without blocking. Whatever
     * is left (bytes the socket did not take, frames still in the engine) goes to the writer
     * thread. This saves the hand-off to the writer thread on every round trip. The committed
     * count of a write stays exact: committing is the pull, whichever thread does it.
     */
    @Override
    public void transmitFromCaller() {
        if (channel == null || !writeToken.compareAndSet(false, true)) {
            transmitReady(); // a plain socket only has blocking writes; or someone is writing already
            return;
        }
        boolean more = true;
        try {
            if (!staging.hasRemaining()) {
                staging.clear();
                int n = core.tryPull(staging);
                staging.flip();
                if (n < 0) {
                    return; // the engine is busy (the reader feeds it): the writer thread pulls
                }
            }
            if (staging.hasRemaining()) {
                written += channel.write(staging);
            }
            more = staging.hasRemaining() || core.pullLeftWork();
        } catch (IOException e) {
            more = true; // the writer thread meets the same failure and reports it
        } finally {
            writeToken.set(false);
            if (more) {
                transmitReady();
            }
        }
    }

    private void acquireWriteToken() {
        while (!writeToken.compareAndSet(false, true)) {
            Thread.onSpinWait(); // its holder is an application thread doing one non-blocking write
        }
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
        wakeSelectors();
        if (!flush) {
            closeSocket();
        }
    }

    @Override
    public void forceClose() {
        forced = true;
        if (channel != null) {
            ForcedClose.shutOutputAndDropInput(channel);
        } else {
            ForcedClose.shutOutput(socket);
        }
        closeSocket();
        transmitReady(); // a writer waiting for work finds the socket closed and counts what it drops
    }

    @Override
    public long bytesWritten() {
        return written;
    }

    // ------------------------------------------------------------------ threads

    private void writeLoop(OutputStream out) {
        ByteBuffer buf = channel != null ? staging : ByteBuffer.allocate(stagingSize).limit(0);
        boolean flushed = false;
        try {
            while (true) {
                awaitWork();
                if (channel != null) {
                    acquireWriteToken();
                }
                try {
                    if (stopping && (!flushOnStop || (!buf.hasRemaining() && core.isFlushed()))) {
                        flushed = flushOnStop;
                        return;
                    }
                    if (!buf.hasRemaining()) {
                        buf.clear();
                        core.pull(buf);
                        buf.flip();
                    }
                    if (buf.hasRemaining()) {
                        if (channel != null) {
                            writeFully(buf);
                        } else {
                            writeFrames(out, buf);
                        }
                    }
                } finally {
                    if (channel != null) {
                        writeToken.set(false);
                    }
                }
            }
        } catch (IOException e) {
            if (stopping && flushOnStop && buf.hasRemaining()) {
                // A local close's flush ended early (it gave up, or the connection failed): the
                // position is exactly what the socket accepted (see writeFully, writeFrames).
                core.committedBytesAbandoned(FrameCodec.payloadNotDelivered(buf, buf.position()), forced ? null : e);
            }
            if (!isStopping()) {
                core.onTransportError(e);
            }
        } catch (RuntimeException | Error e) {
            core.onTransportError(new IOException("the writer failed: " + e, e));
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
     * A clean close: every committed byte is in the kernel's send buffer, but not yet at the peer.
     * Closing the socket while the peer's bytes still arrive (its window updates, its last frames)
     * makes the kernel answer with a reset and throw away what it has not sent yet: the tail the
     * peer was promised. So the output is shut instead (the peer reads our FIN after the last
     * frame), input is read and dropped until the peer closes its end, and only then, or after
     * {@code closeTimeout}, is the socket closed. The reader drops the input while it runs; if it
     * has already ended, this thread does.
     */
    private void lingerForPeer() {
        try {
            socket.shutdownOutput();
        } catch (IOException | UnsupportedOperationException e) {
            return; // TLS may not half-close (its close_notify follows the data), or the socket is gone
        }
        lingerDeadline = System.nanoTime() + lingerNanos;
        lingering = true;
        inputReady();
        wakeSelectors();
        while (!socketClosed.get() && running.get() > 1) {
            long left = lingerDeadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            LockSupport.parkNanos(left); // the reader unparks us when it ends
        }
        if (!socketClosed.get()) {
            try {
                dropInputUntilEof(channel != null ? ByteBuffer.allocate(8192) : null, new byte[8192]);
            } catch (IOException ignored) {
                // the peer reset or the socket closed: either way the linger is over
            }
        }
    }

    /** Reads and drops input until the peer closes its end or the linger deadline passes. */
    private void dropInputUntilEof(ByteBuffer chanBuf, byte[] buf) throws IOException {
        while (!socketClosed.get()) {
            long left = lingerDeadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            if (channel != null) {
                chanBuf.clear();
                int n = channel.read(chanBuf);
                if (n < 0) {
                    return;
                }
                if (n == 0) {
                    readSelector.select(timeoutMillis(left));
                    readSelector.selectedKeys().clear();
                }
            } else {
                socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(left))));
                try {
                    if (socket.getInputStream().read(buf) < 0) {
                        return;
                    }
                } catch (SocketTimeoutException e) {
                    return;
                }
            }
        }
    }

    /**
     * Writes all of {@code src} to the non-blocking channel. While the socket is full it waits on
     * its selector until the next timer deadline and runs the timers, so a silent peer is still
     * detected while this thread waits. Only closing the connection ends a write early.
     */
    private void writeFully(ByteBuffer src) throws IOException {
        while (true) {
            written += channel.write(src);
            if (!src.hasRemaining()) {
                return;
            }
            long wait = core.nanosUntilDeadline();
            writeSelector.select(timeoutMillis(wait));
            writeSelector.selectedKeys().clear();
            if (!channel.isOpen()) {
                throw new java.nio.channels.ClosedChannelException();
            }
            core.runTimers();
        }
    }

    /**
     * Writes {@code src} to a plain socket's stream, at most one data frame per write, as its last
     * frame, advancing the position after each write. A blocking stream write that fails tells
     * nothing of how much it handed over; shaped this way, it can only have cut its own data frame,
     * which the peer then discards whole. So the position counts exactly the frames delivered, and
     * a close that gives up reports exactly what it dropped.
     */
    private void writeFrames(OutputStream out, ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            int start = src.position();
            int end = FrameCodec.endOfNextDataFrame(src, start);
            out.write(src.array(), src.arrayOffset() + start, end - start);
            src.position(end);
            written += end - start;
        }
    }

    /** Selector timeout for a wait of {@code nanos} (negative: no timer armed, wait until woken). */
    private static long timeoutMillis(long nanos) {
        return nanos < 0 ? 0 : Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos) + 1);
    }

    /**
     * Waits until there may be something to write: frames in the engine, bytes an application
     * thread left in the staging buffer, or the session stopping (the caller decides, holding the
     * write token, whether to end).
     */
    private void awaitWork() {
        while (true) {
            writerWoken = false; // see park: a wake-up from here on is not lost
            if (stopping || (channel != null && staging.hasRemaining()) || core.wantsTransmit()) {
                return;
            }
            long wait = core.nanosUntilDeadline();
            if (wait == 0) {
                core.runTimers();
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

    private void readLoop(InputStream in) {
        byte[] buf = channel != null ? null : new byte[READ_BUFFER];
        ByteBuffer pending = channel != null ? ByteBuffer.allocateDirect(CHANNEL_READ_BUFFER).limit(0)
                : ByteBuffer.wrap(buf).limit(0);
        try {
            while (true) {
                if (lingering) {
                    dropInputUntilEof(channel != null ? pending.clear() : null, buf);
                    return;
                }
                if (!pending.hasRemaining()) {
                    int n = channel != null ? readChannel(pending) : readWithTimers(in, buf);
                    if (n == STOP) {
                        return;
                    }
                    if (n < 0) {
                        core.onEof();
                        return;
                    }
                    if (channel == null) {
                        pending.position(0).limit(n);
                    }
                }
                if (!awaitInputWanted()) {
                    return; // the session is over (a lingering writer drops the input itself)
                }
                core.onInput(pending);
            }
        } catch (IOException e) {
            if (!isStopping()) {
                core.onTransportError(e);
            }
        } catch (RuntimeException | Error e) {
            core.onTransportError(new IOException("the reader failed: " + e, e));
            throw e;
        } finally {
            threadDone(false);
        }
    }

    /**
     * Reads the non-blocking channel into {@code buf} (cleared first, flipped after), waiting on
     * the selector until data arrives, running timers at their deadlines.
     *
     * @return bytes read, -1 at end-of-stream, or {@link #STOP}
     */
    private int readChannel(ByteBuffer buf) throws IOException {
        buf.clear();
        while (true) {
            int n = channel.read(buf);
            if (n != 0) {
                buf.flip();
                return n;
            }
            long wait = core.nanosUntilDeadline();
            int ready = readSelector.select(timeoutMillis(wait));
            readSelector.selectedKeys().clear();
            if (ready == 0) {
                core.runTimers();
                if (isStopping()) {
                    return STOP;
                }
            }
        }
    }

    /** Reads, waking at timer deadlines to run them. @return bytes read, -1 at end-of-stream, or {@link #STOP} */
    private int readWithTimers(InputStream in, byte[] buf) throws IOException {
        while (true) {
            long wait = core.nanosUntilDeadline();
            int timeoutMillis = wait < 0 ? 0 : (int) Math.max(1, Math.min(1000, TimeUnit.NANOSECONDS.toMillis(wait) + 1));
            socket.setSoTimeout(timeoutMillis);
            try {
                return in.read(buf);
            } catch (SocketTimeoutException e) {
                core.runTimers();
                if (isStopping()) {
                    return STOP;
                }
            }
        }
    }

    /** Version 1: waits while the receive budget is spent. @return false if the session is over */
    private boolean awaitInputWanted() {
        while (true) {
            readerWoken = false; // see park: a wake-up from here on is not lost
            if (core.wantsInput()) {
                return true;
            }
            if (stopping) {
                return false;
            }
            long wait = core.nanosUntilDeadline();
            if (wait == 0) {
                core.runTimers();
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

    private boolean isStopping() {
        return stopping;
    }

    /**
     * One thread ended. The writer always closes the socket (after a flush and its linger, or on
     * failure), which also ends a reader blocked on it; a reader leaving quietly during a flush
     * must not. The last thread out tells the core.
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
            closeSelectors();
            core.connectionClosed();
        }
    }

    private void closeSocket() {
        if (socketClosed.compareAndSet(false, true)) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing is all we wanted
            }
            // A thread waiting on a selector does not notice the channel closing: wake it.
            wakeSelectors();
        }
    }

    private void wakeSelectors() {
        Selector r = readSelector;
        Selector w = writeSelector;
        if (r != null) {
            r.wakeup();
        }
        if (w != null) {
            w.wakeup();
        }
    }

    private void closeSelectors() {
        for (Selector sel : new Selector[] {readSelector, writeSelector}) {
            if (sel != null) {
                try {
                    sel.close();
                } catch (IOException ignored) {
                    // nothing more to release
                }
            }
        }
    }

    @Override
    public String toString() {
        return "socket connection " + socket;
    }
}
