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
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import smux.api.Session;
import smux.api.SmuxConfig;
import smux.engine.FrameCodec;
import smux.engine.runtime.Driver;
import smux.engine.runtime.SessionCore;

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
 *   <li>The writer pulls frames from the engine into its staging buffer (many frames per pull)
 *       and writes the buffer with one socket write, outside the session lock. Between pulls it
 *       waits on the session lock's condition until there is something to send or a timer is due.</li>
 *   <li>The reader reads the socket (outside the lock) and feeds the engine. Its reads time out at
 *       the next timer deadline so that timers run even while the writer is stuck on a full
 *       socket: a silent peer is detected by its keepalive timeout regardless.</li>
 * </ul>
 *
 * Whichever thread finishes last closes the socket and tells the core.
 */
final class SocketConnection implements Driver {
    private static final int READ_BUFFER = 64 * 1024;
    /** A plain socket's stream is written this much at a time (see {@link #writeSlices}). */
    private static final int PLAIN_WRITE_SLICE = 16 * 1024;
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
    private final SessionCore core;
    private final ReentrantLock lock;
    private final Condition writerWake;
    private final Condition readerWake;
    private final int stagingSize;
    private final AtomicInteger running = new AtomicInteger(2);
    private final AtomicBoolean socketClosed = new AtomicBoolean();
    /** Bytes the socket accepted so far: written by the writer only, read by a closing thread. */
    private volatile long written;
    /** A closing session gave up on the flush: what the writer has left is reported as dropped. */
    private volatile boolean forced;
    private boolean stopping;
    private boolean flushOnStop;

    private SocketConnection(Socket socket, SessionCore core, SmuxConfig config) {
        this.socket = socket;
        this.channel = socket.getChannel();
        this.core = core;
        this.lock = core.lock();
        this.writerWake = lock.newCondition();
        this.readerWake = lock.newCondition();
        this.stagingSize = config.stagingBufferSize();
    }

    static Session start(Socket socket, boolean client, SmuxConfig config) throws IOException {
        SessionCore core;
        SocketConnection conn = null;
        try {
            socket.setTcpNoDelay(true);
            core = new SessionCore(client, config, SocketTransportProvider.NAME,
                    socket.getLocalSocketAddress(), socket.getRemoteSocketAddress());
            conn = new SocketConnection(socket, core, config);
            InputStream in;
            OutputStream out;
            if (conn.channel != null) {
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
            core.start(conn);
            ThreadFactory factory = config.threadFactory().orElse(SocketConnection::daemon);
            int n = SEQUENCE.incrementAndGet();
            SocketConnection c = conn;
            Thread reader = factory.newThread(() -> c.readLoop(in));
            Thread writer = factory.newThread(() -> c.writeLoop(out));
            name(reader, "smux-socket-reader-" + n);
            name(writer, "smux-socket-writer-" + n);
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
            core.awaitProbe();
        } catch (IOException e) {
            core.close();
            throw e;
        }
        return core;
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

    // ------------------------------------------------------------------ Driver (lock held)

    @Override
    public void transmitReady() {
        writerWake.signal();
    }

    @Override
    public void inputReady() {
        readerWake.signal();
    }

    @Override
    public void shutdown(boolean flush) {
        stopping = true;
        flushOnStop = flush;
        writerWake.signal();
        readerWake.signal();
        wakeSelectors();
        if (!flush) {
            closeSocket();
        }
    }

    @Override
    public void forceClose() {
        forced = true;
        closeSocket();
    }

    @Override
    public long bytesWritten() {
        return written;
    }

    // ------------------------------------------------------------------ threads

    private void writeLoop(OutputStream out) {
        ByteBuffer staging = channel != null ? ByteBuffer.allocateDirect(stagingSize) : ByteBuffer.allocate(stagingSize);
        try {
            while (true) {
                staging.clear();
                if (!awaitWork()) {
                    return;
                }
                core.pull(staging);
                if (staging.position() > 0) {
                    staging.flip();
                    if (channel != null) {
                        writeFully(staging);
                    } else {
                        writeSlices(out, staging);
                    }
                }
            }
        } catch (IOException e) {
            if (forced && staging.hasRemaining()) {
                core.committedBytesUnsent(FrameCodec.payloadAfter(staging, staging.position()));
            }
            if (!isStopping()) {
                core.onTransportError(e);
            }
        } catch (RuntimeException | Error e) {
            core.onTransportError(new IOException("the writer failed: " + e, e));
            throw e;
        } finally {
            threadDone(true);
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
     * Writes {@code src} to a plain socket's stream in slices, advancing its position after each,
     * so a close that gives up knows what was sent to within one slice (a blocking stream write
     * tells nothing until it returns).
     */
    private void writeSlices(OutputStream out, ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            int n = Math.min(PLAIN_WRITE_SLICE, src.remaining());
            out.write(src.array(), src.position(), n);
            src.position(src.position() + n);
            written += n;
        }
    }

    /** Selector timeout for a wait of {@code nanos} (negative: no timer armed, wait until woken). */
    private static long timeoutMillis(long nanos) {
        return nanos < 0 ? 0 : Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos) + 1);
    }

    /** Waits until there is something to pull. @return false when the writer should end */
    private boolean awaitWork() {
        lock.lock();
        try {
            while (true) {
                if (stopping && (!flushOnStop || core.isFlushed())) {
                    return false;
                }
                if (core.wantsTransmit()) {
                    return true;
                }
                long wait = core.nanosUntilDeadline();
                if (wait == 0) {
                    core.runTimers();
                    continue;
                }
                try {
                    if (wait < 0) {
                        writerWake.await();
                    } else {
                        writerWake.awaitNanos(wait);
                    }
                } catch (InterruptedException e) {
                    // nobody interrupts the writer but a closing executor: end like a close
                    Thread.currentThread().interrupt();
                    closeSocket();
                    return false;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private void readLoop(InputStream in) {
        byte[] buf = channel != null ? null : new byte[READ_BUFFER];
        ByteBuffer pending = channel != null ? ByteBuffer.allocateDirect(CHANNEL_READ_BUFFER).limit(0)
                : ByteBuffer.wrap(buf).limit(0);
        try {
            while (true) {
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
                    return;
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
        lock.lock();
        try {
            while (!core.wantsInput()) {
                if (stopping || core.isClosed()) {
                    return false;
                }
                long wait = core.nanosUntilDeadline();
                try {
                    if (wait < 0) {
                        readerWake.await();
                    } else if (wait == 0) {
                        core.runTimers();
                    } else {
                        readerWake.awaitNanos(wait);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    closeSocket();
                    return false;
                }
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    private boolean isStopping() {
        lock.lock();
        try {
            return stopping;
        } finally {
            lock.unlock();
        }
    }

    /**
     * One thread ended. The writer always closes the socket (after a flush, or on failure), which
     * also ends a reader blocked on it; a reader leaving quietly during a flush must not. The last
     * thread out tells the core.
     */
    private void threadDone(boolean writer) {
        if (writer) {
            closeSocket();
        }
        if (running.decrementAndGet() == 0) {
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
