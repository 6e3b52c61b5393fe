package smux.transport.nio;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Iterator;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * The selector thread every NIO session shares. It reads each readable channel into one shared
 * buffer and feeds the session's engine, pulls frames into one shared staging buffer and writes
 * them, and runs each session's timers from one priority queue. Per session it keeps only what a
 * partial write or a paused version 1 reader leaves behind, so an idle session costs no buffers.
 *
 * <p>Other threads never touch the selector: they queue the connection ({@link #schedule}) and
 * wake the loop. The loop thread starts with the first session and ends when the last one is gone,
 * so a process with no sessions has no smux thread.
 */
final class EventLoop implements Runnable {
    /**
     * The shared read buffer: 256 KiB, so a busy connection is drained in a few reads, each fed to
     * its engine in one hold of the session lock (64 KiB reads made one stream 15-20% slower).
     */
    private static final int READ_BUFFER = 256 * 1024;
    private static EventLoop current;

    private final Selector selector;
    private final ConcurrentLinkedQueue<Handler> pending = new ConcurrentLinkedQueue<>();
    private final PriorityQueue<Timer> timers = new PriorityQueue<>();
    private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(READ_BUFFER);
    private ByteBuffer staging = ByteBuffer.allocateDirect(64 * 1024);
    private final Thread thread;
    private int sessions; // guarded by EventLoop.class

    /** What the loop serves: one connection, called on the loop's thread only. */
    interface Handler {
        /** The connection was queued ({@link #schedule}): it has work to do. */
        void service();

        /** The selector found the connection's channel ready. @param key its key */
        void onReady(SelectionKey key);

        /** A timer entry the connection asked for ({@link #timer}) came due. @param at its time */
        void onTimer(long at);
    }

    /** A session's next deadline; stale entries (the session rescheduled) are skipped. */
    record Timer(long at, Handler connection) implements Comparable<Timer> {
        @Override
        public int compareTo(Timer o) {
            return Long.compare(at - o.at, 0);
        }
    }

    private EventLoop() throws IOException {
        this.selector = Selector.open();
        this.thread = new Thread(this, "smux-nio-loop");
        this.thread.setDaemon(true);
    }

    /** Joins (or starts) the shared loop for a new session. */
    static EventLoop acquire() throws IOException {
        synchronized (EventLoop.class) {
            if (current == null) {
                current = new EventLoop();
                current.thread.start();
            }
            current.sessions++;
            return current;
        }
    }

    /** @return whether the calling thread is this loop's thread */
    boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    /** Queues a connection for service on the loop thread and wakes the loop. */
    void schedule(Handler c) {
        pending.add(c);
        if (!inLoop()) {
            selector.wakeup();
        }
    }

    Selector selector() {
        return selector;
    }

    ByteBuffer readBuffer() {
        return readBuffer;
    }

    /** @return the shared staging buffer, at least {@code size} bytes, cleared */
    ByteBuffer staging(int size) {
        if (staging.capacity() < size) {
            staging = ByteBuffer.allocateDirect(size);
        }
        staging.clear().limit(size);
        return staging;
    }

    void timer(long at, Handler c) {
        timers.add(new Timer(at, c));
    }

    /** A session left the loop (its channel is closed). */
    void release() {
        synchronized (EventLoop.class) {
            sessions--;
        }
    }

    @Override
    public void run() {
        try {
            while (true) {
                select();
                Handler c;
                while ((c = pending.poll()) != null) {
                    c.service();
                }
                Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                while (keys.hasNext()) {
                    SelectionKey key = keys.next();
                    keys.remove();
                    ((Handler) key.attachment()).onReady(key);
                }
                runTimers();
                if (exitIfIdle()) {
                    return;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("the smux NIO loop failed", e);
        } finally {
            try {
                selector.close();
            } catch (IOException ignored) {
                // the loop is over
            }
        }
    }

    private void select() throws IOException {
        if (!pending.isEmpty()) {
            selector.selectNow();
            return;
        }
        Timer next = timers.peek();
        if (next == null) {
            selector.select();
            return;
        }
        long waitNanos = next.at - System.nanoTime();
        if (waitNanos <= 0) {
            selector.selectNow();
        } else {
            selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(waitNanos) + 1));
        }
    }

    private void runTimers() {
        long now = System.nanoTime();
        Timer t;
        while ((t = timers.peek()) != null && now - t.at >= 0) {
            timers.poll();
            t.connection.onTimer(t.at);
        }
    }

    private boolean exitIfIdle() {
        synchronized (EventLoop.class) {
            if (sessions == 0 && pending.isEmpty()) {
                current = null;
                return true;
            }
            return false;
        }
    }
}
