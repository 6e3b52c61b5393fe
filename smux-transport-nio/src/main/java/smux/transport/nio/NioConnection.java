package smux.transport.nio;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import smux.api.SmuxConfig;
import smux.engine.FrameCodec;
import smux.engine.runtime.CloseLinger;
import smux.engine.runtime.Transport;
import smux.engine.runtime.ForcedClose;
import smux.engine.runtime.SessionLink;
import smux.engine.runtime.SessionStarter;

/**
 * One session on the {@link EventLoop}. Everything here runs on the loop thread except the
 * {@link Transport} methods, which any thread may call: they only flip this connection's own atomic
 * flags and queue it for service, so the loop never waits on the session.
 *
 * <h2>Input: exactly once, in order, and never stuck</h2>
 * A version 1 engine stops taking input at a frame boundary once the session's receive budget is
 * spent and leaves the rest of what it was given. {@link #pumpInput} is the one place that feeds
 * the engine, and it keeps two promises:
 * <ul>
 *   <li><b>Every byte read reaches the engine exactly once, in the order it was read.</b> What the
 *       engine leaves is kept in {@link #unread}, and the channel is not read again until
 *       {@code unread} has been fed in full: no later byte can overtake it, and a second leftover
 *       can never replace the first.</li>
 *   <li><b>A paused reader always resumes once the budget allows.</b> Pausing publishes
 *       {@link #inputPaused} <em>before</em> asking the engine whether it wants input again; the
 *       application thread that frees the budget calls {@link #inputReady()} <em>after</em> the
 *       engine changed, and takes the flag back. So either the loop sees the budget free and goes
 *       on, or {@code inputReady} sees the flag and schedules the loop; the compare-and-set lets
 *       exactly one of them resume.</li>
 * </ul>
 */
final class NioConnection implements SessionStarter.Connection, EventLoop.Handler {
    /** Reads per readiness event before other sessions get a turn (with the 256 KiB read buffer: at most 1 MiB). */
    static final int READS_PER_TURN = 4;

    private static final int RUNNING = 0;
    private static final int STOP_AFTER_FLUSH = 1;
    private static final int STOP_NOW = 2;

    private final SocketChannel channel;
    private final SessionLink link;
    private final EventLoop loop;
    private final int stagingSize;
    /** How long a clean close waits for the peer to close its end. */
    private final Duration closeTimeout;
    private SelectionKey key;

    // Shared with the threads that call the Transport methods.
    private final AtomicBoolean queued = new AtomicBoolean();
    private final AtomicBoolean inputPaused = new AtomicBoolean();
    /** RUNNING, then STOP_AFTER_FLUSH (a local close) or STOP_NOW; it only ever rises. */
    private final AtomicInteger stop = new AtomicInteger(RUNNING);
    /** A local close asked for a flush ({@code shutdown(true)}): if the flush ends early, what is left unwritten is reported as dropped. */
    private volatile boolean flushOnStop;
    /** A closing session gave up on the flush (rather than the connection failing by itself). */
    private volatile boolean forced;

    /** Bytes the channel accepted so far: written by the loop only, read by a closing thread. */
    private volatile long written;

    // Loop thread only.
    /**
     * Pulled frames a partial write left behind, from the start of the frame it cut (position: the
     * first unwritten byte), so that a close that gives up can count the stream bytes it drops.
     */
    private ByteBuffer unwritten;
    private ByteBuffer unread;    // received bytes a paused (version 1) engine did not take yet
    private boolean closed;
    private long timerAt;
    private boolean timerSet;
    /** Set once the output is shut after a clean flush: input is then dropped until the peer closes (see {@link #startLinger}). */
    private CloseLinger linger;

    NioConnection(SocketChannel channel, SessionLink link, EventLoop loop, SmuxConfig config) {
        this.channel = channel;
        this.link = link;
        this.loop = loop;
        this.stagingSize = config.stagingBufferSize();
        this.closeTimeout = config.closeTimeout();
    }

    /** Puts the channel in non-blocking mode and joins the shared loop for it. */
    static NioConnection open(SocketChannel channel, SessionLink link, SmuxConfig config) throws IOException {
        channel.configureBlocking(false);
        return new NioConnection(channel, link, EventLoop.acquire(), config);
    }

    /** The loop registers the channel on its first service. */
    @Override
    public void launch() {
        schedule();
    }

    // ------------------------------------------------------------------ Transport (any thread)

    void schedule() {
        if (queued.compareAndSet(false, true)) {
            loop.schedule(this);
        }
    }

    @Override
    public void transmitReady() {
        schedule();
    }

    @Override
    public void inputReady() {
        if (inputPaused.compareAndSet(true, false)) {
            schedule();
        }
    }

    @Override
    public void shutdown(boolean flush) {
        flushOnStop |= flush;
        raiseStop(flush ? STOP_AFTER_FLUSH : STOP_NOW);
        schedule();
    }

    @Override
    public long bytesWritten() {
        return written;
    }

    @Override
    public void forceClose() {
        forced = true;
        raiseStop(STOP_NOW);
        ForcedClose.shutOutputAndDropInput(channel);
        try {
            channel.close(); // also ends a write the loop is doing
        } catch (IOException ignored) {
            // closing is all we wanted
        }
        schedule();
    }

    private void raiseStop(int level) {
        stop.accumulateAndGet(level, Math::max);
    }

    // ------------------------------------------------------------------ loop thread

    /** Runs on the loop when queued: registers, resumes reading, writes, closes. */
    @Override
    public void service() {
        queued.set(false); // a request from now on queues us again
        if (closed) {
            return;
        }
        if (linger != null) {
            lingerStep();
            return;
        }
        if (key == null && !register()) {
            return;
        }
        if (!inputPaused.get()) {
            pumpInput(0); // resumes after a pause: feeds what was left, reads wait for readiness
        }
        afterWork();
    }

    @Override
    public void onReady(SelectionKey k) {
        if (closed) {
            return;
        }
        if (linger != null) {
            lingerStep();
            return;
        }
        try {
            if (k.isReadable() && !inputPaused.get()) {
                pumpInput(READS_PER_TURN);
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
    @Override
    public void onTimer(long at) {
        if (closed || !timerSet || at != timerAt) {
            return;
        }
        timerSet = false;
        if (linger != null) {
            lingerStep();
            return;
        }
        link.runTimers();
        afterWork();
    }

    private boolean register() {
        try {
            key = channel.register(loop.selector(), SelectionKey.OP_READ, this);
            return true;
        } catch (IOException | RuntimeException e) {
            link.onTransportError(e instanceof IOException io ? io : new IOException(e));
            closeNow();
            return false;
        }
    }

    /**
     * Feeds the engine: first whatever it left last time, then up to {@code reads} reads of the
     * channel. Returns when the channel is drained, the reads are used up, or the engine paused
     * (see the class comment for the two promises this method keeps).
     */
    private void pumpInput(int reads) {
        ByteBuffer buf = loop.readBuffer();
        int done = 0;
        while (!closed) {
            if (unread != null) {
                link.onInput(unread);
                if (unread.hasRemaining()) {
                    if (pauseInput()) {
                        return;
                    }
                    continue; // the budget was freed meanwhile: feed the rest now
                }
                unread = null;
            }
            setInterest(SelectionKey.OP_READ, true);
            if (done++ == reads) {
                return;
            }
            buf.clear();
            int n;
            try {
                n = channel.read(buf);
            } catch (IOException e) {
                failed(e);
                return;
            }
            if (n < 0) {
                link.onEof();
                return;
            }
            if (n == 0) {
                return;
            }
            buf.flip();
            link.onInput(buf);
            if (buf.hasRemaining()) {
                // Version 1 budget spent: the rest waits here, ahead of anything read later.
                unread = ByteBuffer.allocate(buf.remaining()).put(buf).flip();
            }
        }
    }

    /**
     * Stops reading until the engine wants input. @return true if paused; false if the engine
     * wants input already (the caller goes on feeding)
     */
    private boolean pauseInput() {
        inputPaused.set(true); // published before the check below: see the class comment
        setInterest(SelectionKey.OP_READ, false);
        return !(link.wantsInput() && inputPaused.compareAndSet(true, false));
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
        int s = stop.get();
        if (s == STOP_NOW || (s == STOP_AFTER_FLUSH && unwritten == null && link.isFlushed())) {
            if (s == STOP_NOW || !startLinger()) {
                closeNow();
            }
            return;
        }
        long wait = link.nanosUntilDeadline();
        if (wait >= 0) {
            // Only an earlier deadline needs a new entry. A later one (the idle deadline moves on
            // with every read) waits for the current entry to fire, which then re-arms: so each
            // session has about one entry in the queue, not one per read.
            long at = System.nanoTime() + wait;
            if (!timerSet || at - timerAt < 0) {
                armTimer(at);
            }
        }
    }

    /** Writes leftovers, then pulls and writes until the engine is empty or the socket is full. */
    private void flush() {
        try {
            if (unwritten != null) {
                written += channel.write(unwritten);
                if (unwritten.hasRemaining()) {
                    setInterest(SelectionKey.OP_WRITE, true);
                    return;
                }
                unwritten = null;
            }
            while (link.wantsTransmit()) {
                ByteBuffer staging = loop.staging(stagingSize);
                link.pull(staging);
                staging.flip();
                if (!staging.hasRemaining()) {
                    break;
                }
                try {
                    written += channel.write(staging);
                } finally {
                    if (staging.hasRemaining()) {
                        keepUnwritten(staging); // also when the write failed: a close counts what it drops
                    }
                }
                if (unwritten != null) {
                    setInterest(SelectionKey.OP_WRITE, true);
                    return;
                }
            }
            setInterest(SelectionKey.OP_WRITE, false);
        } catch (IOException e) {
            failed(e);
        }
    }

    /**
     * Keeps what the loop's shared staging buffer still holds, from the start of the frame the
     * write cut (position: the first byte not written), so the frame is written on whole, or, if
     * a close gives up, counted whole.
     */
    private void keepUnwritten(ByteBuffer staging) {
        int cut = FrameCodec.frameStart(staging, staging.position());
        unwritten = ByteBuffer.allocate(staging.limit() - cut)
                .put(staging.duplicate().position(cut)).flip().position(staging.position() - cut);
    }

    private void armTimer(long at) {
        timerAt = at;
        timerSet = true;
        loop.timer(at, this);
    }

    /**
     * A clean close ({@link CloseLinger}): shuts the output and drops input until the peer closes
     * its end; the channel is closed then, or at the linger's deadline, or when the closing
     * session gives up.
     *
     * @return false if the output could not be shut (close at once)
     */
    private boolean startLinger() {
        linger = CloseLinger.afterFlush(channel, closeTimeout);
        if (linger == null) {
            return false;
        }
        unread = null;
        inputPaused.set(false);
        setInterest(SelectionKey.OP_WRITE, false);
        setInterest(SelectionKey.OP_READ, true);
        armTimer(linger.deadline());
        lingerStep(); // the peer may have closed its end already
        return true;
    }

    /** While lingering: drops what arrived; closes at the peer's end-of-stream, the deadline or a forced close. */
    private void lingerStep() {
        if (stop.get() == STOP_NOW || linger.dropWaiting(channel, loop.readBuffer(), READS_PER_TURN)) {
            closeNow();
        } else if (!timerSet) {
            armTimer(linger.deadline());
        }
    }

    private void failed(IOException e) {
        if (stop.get() == RUNNING) {
            link.onTransportError(e);
        }
        closeNow(e);
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
        closeNow(null);
    }

    /** @param failure why the connection failed, or null (a close, a forced close, the peer's end) */
    private void closeNow(IOException failure) {
        if (closed) {
            return;
        }
        closed = true;
        if (flushOnStop && unwritten != null && unwritten.hasRemaining()) {
            // A local close's flush ended early: it gave up, or the connection failed under it.
            link.committedBytesAbandoned(FrameCodec.payloadNotDelivered(unwritten, unwritten.position()),
                    forced ? null : failure);
        }
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
        link.connectionClosed();
    }

    @Override
    public String toString() {
        return "nio connection " + channel;
    }
}
