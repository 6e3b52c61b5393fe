package smux.transport.nio;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.concurrent.locks.ReentrantLock;
import smux.api.Session;
import smux.api.SmuxConfig;
import smux.engine.runtime.Driver;
import smux.engine.runtime.SessionCore;

/**
 * One session on the {@link EventLoop}. Everything here runs on the loop thread except the
 * {@link Driver} methods, which other threads call under the session lock: they only set flags
 * and queue the connection for service.
 */
final class NioConnection implements Driver {
    /** Reads per readiness event before other sessions get a turn (with the 256 KiB read buffer: at most 1 MiB). */
    private static final int READS_PER_TURN = 4;

    private final SocketChannel channel;
    private final SessionCore core;
    private final ReentrantLock lock;
    private final EventLoop loop;
    private final int stagingSize;
    private SelectionKey key;

    // Set by Driver methods under the session lock; read and cleared by the loop under it.
    private boolean queued;
    private boolean stopping;
    private boolean flushOnStop;
    private boolean forced;
    private boolean readPaused;

    // Loop thread only.
    private ByteBuffer unwritten; // pulled frames a partial write left behind
    private ByteBuffer unread;    // received bytes a paused (version 1) engine did not take
    private boolean closed;
    private long timerAt;
    private boolean timerSet;

    private NioConnection(SocketChannel channel, SessionCore core, EventLoop loop, SmuxConfig config) {
        this.channel = channel;
        this.core = core;
        this.lock = core.lock();
        this.loop = loop;
        this.stagingSize = config.stagingBufferSize();
    }

    static Session start(SocketChannel channel, boolean client, SmuxConfig config) throws IOException {
        SessionCore core;
        EventLoop loop;
        try {
            channel.configureBlocking(false);
            channel.socket().setTcpNoDelay(true);
            core = new SessionCore(client, config, NioTransportProvider.NAME,
                    channel.getLocalAddress(), channel.getRemoteAddress());
            loop = EventLoop.acquire();
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        NioConnection conn = new NioConnection(channel, core, loop, config);
        core.start(conn); // queues the connection: the loop registers it on its first service
        lockedSchedule(conn);
        try {
            core.awaitProbe();
        } catch (IOException e) {
            core.close();
            throw e;
        }
        return core;
    }

    private static void lockedSchedule(NioConnection c) {
        c.lock.lock();
        try {
            c.schedule();
        } finally {
            c.lock.unlock();
        }
    }

    // ------------------------------------------------------------------ Driver (session lock held)

    private void schedule() {
        if (!queued) {
            queued = true;
            loop.schedule(this);
        }
    }

    @Override
    public void transmitReady() {
        schedule();
    }

    @Override
    public void inputReady() {
        if (readPaused) {
            readPaused = false;
            schedule();
        }
    }

    @Override
    public void shutdown(boolean flush) {
        stopping = true;
        flushOnStop = flush;
        schedule();
    }

    @Override
    public void forceClose() {
        forced = true;
        stopping = true;
        flushOnStop = false;
        try {
            channel.close(); // also ends a write the loop is doing
        } catch (IOException ignored) {
            // closing is all we wanted
        }
        schedule();
    }

    // ------------------------------------------------------------------ loop thread

    /** Runs on the loop when queued: registers, writes, resumes reading, closes. */
    void service() {
        if (closed) {
            return;
        }
        lock.lock();
        try {
            queued = false;
        } finally {
            lock.unlock();
        }
        if (key == null && !register()) {
            return;
        }
        if (unread != null) {
            feed(unread);
            if (!unread.hasRemaining()) {
                unread = null;
            }
        }
        if (unread == null && !closed && core.wantsInput()) {
            setInterest(SelectionKey.OP_READ, true);
        }
        afterWork();
    }

    /** The selector says the channel is ready. */
    void onReady(SelectionKey k) {
        if (closed) {
            return;
        }
        try {
            if (k.isReadable()) {
                readSome();
            }
            if (!closed && k.isValid() && k.isWritable()) {
                setInterest(SelectionKey.OP_WRITE, false);
            }
        } catch (CancelledKeyException e) {
            closeNow();
            return;
        }
        afterWork();
    }

    /** A timer entry came due; stale entries (rescheduled since) are ignored. */
    void onTimer(long at) {
        if (closed || !timerSet || at != timerAt) {
            return;
        }
        timerSet = false;
        core.runTimers();
        afterWork();
    }

    private boolean register() {
        try {
            key = channel.register(loop.selector(), SelectionKey.OP_READ, this);
            return true;
        } catch (IOException | RuntimeException e) {
            core.onTransportError(e instanceof IOException io ? io : new IOException(e));
            closeNow();
            return false;
        }
    }

    private void readSome() {
        ByteBuffer buf = loop.readBuffer();
        for (int i = 0; i < READS_PER_TURN && !closed; i++) {
            buf.clear();
            int n;
            try {
                n = channel.read(buf);
            } catch (IOException e) {
                failed(e);
                return;
            }
            if (n < 0) {
                core.onEof();
                return;
            }
            if (n == 0) {
                return;
            }
            buf.flip();
            feed(buf);
            if (buf.hasRemaining()) {
                // Version 1 budget spent: keep the rest; reading resumes when the application reads.
                unread = ByteBuffer.allocate(buf.remaining()).put(buf).flip();
                return;
            }
        }
    }

    private void feed(ByteBuffer buf) {
        core.onInput(buf);
        if (buf.hasRemaining()) {
            lock.lock();
            try {
                // Checked under the lock, so an application read that frees the budget right now
                // either sees readPaused and reschedules us, or happened before and we go on.
                if (!core.wantsInput()) {
                    readPaused = true;
                    setInterest(SelectionKey.OP_READ, false);
                }
            } finally {
                lock.unlock();
            }
        }
    }

    /** After any work: write what is pending, close if the session is over, re-arm the timer. */
    private void afterWork() {
        if (closed) {
            return;
        }
        flush();
        if (closed) {
            return;
        }
        boolean stop;
        boolean flushFirst;
        lock.lock();
        try {
            stop = stopping;
            flushFirst = flushOnStop && !forced;
        } finally {
            lock.unlock();
        }
        if (stop && (!flushFirst || (unwritten == null && core.isFlushed()))) {
            closeNow();
            return;
        }
        long wait = core.nanosUntilDeadline();
        if (wait >= 0) {
            // Only an earlier deadline needs a new entry. A later one (the idle deadline moves on
            // with every read) waits for the current entry to fire, which then re-arms: so each
            // session has about one entry in the queue, not one per read.
            long at = System.nanoTime() + wait;
            if (!timerSet || at - timerAt < 0) {
                timerAt = at;
                timerSet = true;
                loop.timer(at, this);
            }
        }
    }

    /** Writes leftovers, then pulls and writes until the engine is empty or the socket is full. */
    private void flush() {
        try {
            if (unwritten != null) {
                channel.write(unwritten);
                if (unwritten.hasRemaining()) {
                    setInterest(SelectionKey.OP_WRITE, true);
                    return;
                }
                unwritten = null;
            }
            while (core.wantsTransmit()) {
                ByteBuffer staging = loop.staging(stagingSize);
                core.pull(staging);
                staging.flip();
                if (!staging.hasRemaining()) {
                    break;
                }
                channel.write(staging);
                if (staging.hasRemaining()) {
                    unwritten = ByteBuffer.allocate(staging.remaining()).put(staging).flip();
                    setInterest(SelectionKey.OP_WRITE, true);
                    return;
                }
            }
            setInterest(SelectionKey.OP_WRITE, false);
        } catch (IOException e) {
            failed(e);
        }
    }

    private void failed(IOException e) {
        boolean quiet;
        lock.lock();
        try {
            quiet = stopping;
        } finally {
            lock.unlock();
        }
        if (!quiet) {
            core.onTransportError(e);
        }
        closeNow();
    }

    private void setInterest(int op, boolean on) {
        if (key == null || !key.isValid()) {
            return;
        }
        int ops = key.interestOps();
        int next = on ? ops | op : ops & ~op;
        if (next != ops) {
            key.interestOps(next);
        }
    }

    private void closeNow() {
        if (closed) {
            return;
        }
        closed = true;
        unwritten = null;
        unread = null;
        if (key != null) {
            key.cancel();
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing is all we wanted
        }
        loop.release();
        core.connectionClosed();
    }

    @Override
    public String toString() {
        return "nio connection " + channel;
    }
}
