package smux.cli;

import java.io.Closeable;
import java.io.IOException;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import smux.api.AbandonedBytesException;
import smux.api.Session;

/**
 * The accept loop of {@code serve} and {@code tunnel server}, and their graceful stop.
 *
 * <p>Each connection is served on a worker ({@link Workers}). Whatever goes wrong with one
 * connection, even an {@link OutOfMemoryError} or a thread that cannot start, closes that
 * connection with a logged reason; the loop keeps accepting. On SIGTERM or Ctrl-C,
 * {@link #stop} closes the listener and drains every session ({@link Session#drain}): new
 * streams are refused, the streams in flight have until the deadline to finish.
 */
final class Server {
    /** Serves one accepted connection; runs on a worker. */
    interface Handler {
        void serve(Socket connection, String peer) throws Exception;
    }

    private final Log log;
    private final Workers workers;
    private final String unit;
    private final Map<Session, String> sessions = new ConcurrentHashMap<>();
    private volatile boolean stopping;
    private volatile boolean drainCut;
    private volatile ExecutorService drainers;
    private volatile Listener listener;
    private final java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);

    /** @param unit what one accepted connection is, for the log ("session", "connection") */
    Server(Log log, Workers workers, String unit) {
        this.log = log;
        this.workers = workers;
        this.unit = unit;
        current = this;
    }

    /**
     * Accepts until {@link #stop}, then waits for the stop to finish, so that the caller does not
     * shut the workers down under the streams that are draining.
     */
    void run(Listener l, Handler handler) throws InterruptedException {
        listener = l;
        if (stopping) {
            l.close(); // the stop came first: nothing to accept
        }
        accept(l, handler);
        if (stopping) {
            stopped.await();
        }
    }

    private void accept(Listener l, Handler handler) {
        while (!stopping) {
            try {
                acceptOne(l, handler);
            } catch (Throwable t) {
                // Anything at all, an OutOfMemoryError from the log line included: the loop goes on.
                if (stopping || !l.isOpen()) {
                    break;
                }
                try {
                    if (t instanceof OutOfMemoryError) {
                        outOfMemory();
                    }
                    safely(() -> log.info("accepting connections: " + Log.reason(t) + "; going on in 0.1 s"));
                } catch (Throwable again) {
                    // Out of memory while handling it: even the lambdas handed to safely are
                    // allocated outside its try. Ending here would close the listener and end the
                    // process (exit 1, seen under FloodIT's out-of-memory flood): go on instead.
                }
                LockSupport.parkNanos(100_000_000);
            }
        }
    }

    private void acceptOne(Listener l, Handler handler) {
        Socket connection;
        try {
            connection = l.accept();
        } catch (IOException e) {
            if (stopping || !l.isOpen()) {
                return;
            }
            // e.g. "Too many open files": the next accept may work once sessions end
            log.info("accepting a connection failed: " + Log.reason(e) + "; trying again in 0.1 s");
            LockSupport.parkNanos(100_000_000);
            return;
        }
        if (spareMemory == null) {
            safely(() -> spareMemory = new byte[SPARE_MEMORY]);
        }
        String peer = peer(connection);
        try {
            workers.execute(() -> serveOne(connection, handler, peer));
        } catch (Throwable t) {
            close(connection);
            if (t instanceof OutOfMemoryError) {
                outOfMemory();
            }
            safely(() -> log.info(unit + " from " + peer + " refused: " + Log.reason(t)));
        }
    }

    private void serveOne(Socket connection, Handler handler, String peer) {
        if (stopping) {
            close(connection); // accepted as the stop began: no session that the drain would cut at once
            return;
        }
        try {
            handler.serve(connection, peer);
        } catch (Throwable t) {
            close(connection);
            if (t instanceof OutOfMemoryError) {
                outOfMemory();
            }
            safely(() -> log.info(unit + " from " + peer + " ended: " + Log.reason(t)));
        }
    }

    /**
     * Memory set aside and let go on an {@link OutOfMemoryError}, so that logging the reason and
     * closing the failed session can still allocate; taken again after the next accept.
     */
    private static final int SPARE_MEMORY = 1 << 20;
    private volatile byte[] spareMemory = new byte[SPARE_MEMORY];

    /** The server of this process, for {@link #onOutOfMemory} from any thread. */
    private static volatile Server current;

    /** Any thread that met an {@link OutOfMemoryError} calls this: see {@link #outOfMemory()}. */
    static void onOutOfMemory() {
        Server s = current;
        if (s != null) {
            s.outOfMemory();
        }
    }

    /**
     * Memory ran out: lets go of the spare memory, and closes the session that buffers the most
     * (a peer that sends and never reads), so that the others can go on. Its buffers are freed
     * with it; the log says which and why.
     */
    private synchronized void outOfMemory() {
        spareMemory = null;
        safely(() -> {
            Session worst = null;
            long most = -1;
            for (Session s : sessions.keySet()) {
                if (s.isClosed()) {
                    continue;
                }
                long b = s.stats().bufferedBytes();
                if (b > most) {
                    most = b;
                    worst = s;
                }
            }
            String peer = worst == null ? null : sessions.remove(worst);
            if (peer != null) {
                log.info("session from " + peer + " closed: out of memory, and it buffered the most of any session ("
                        + (most >> 20) + " MiB unread)");
                try {
                    worst.close();
                } catch (AbandonedBytesException e) {
                    log.info(e.getMessage());
                }
            }
        });
    }

    /** Runs {@code r}, ignoring any failure (an out-of-memory log line must not end the loop). */
    static void safely(Runnable r) {
        try {
            r.run();
        } catch (Throwable ignored) {
            // nothing left to do: the caller goes on
        }
    }

    /**
     * Registers a running session so that {@link #stop} drains it.
     *
     * @return false if the server is stopping: the caller closes the session
     */
    boolean track(Session s, String peer) {
        sessions.put(s, peer);
        if (stopping) {
            sessions.remove(s);
            return false;
        }
        return true;
    }

    void untrack(Session s) {
        sessions.remove(s);
    }

    /** @return true once {@link #stop} began: a session whose accept failed is draining, not over */
    boolean stopping() {
        return stopping;
    }

    /** Stops accepting: closes the listener; {@link #run} returns. */
    void stopAccepting() {
        stopping = true;
        Listener l = listener;
        if (l != null) {
            l.close();
        }
    }

    /** The stop (graceful or not) is over: {@link #run} returns. */
    void stopped() {
        stopped.countDown();
    }

    /** The shutdown hook: stop accepting, let the streams in flight finish up to {@code drain}, close. */
    void stop(Duration drain) {
        try {
            drainAll(drain);
        } finally {
            stopped();
        }
    }

    private void drainAll(Duration drain) {
        stopAccepting();
        List<Session> all = new ArrayList<>(sessions.keySet());
        log.info("stopping: no new sessions or streams; " + all.size() + " session(s) have up to "
                + drain.toSeconds() + " s (--drain) for their streams to finish");
        int cut = 0;
        if (!all.isEmpty()) {
            ExecutorService drainers = Executors.newFixedThreadPool(Math.min(all.size(), 32), Daemons.named("drain"));
            this.drainers = drainers;
            if (drainCut) {
                drainers.shutdownNow(); // the second signal came before the drain began
            }
            try {
                long deadline = System.nanoTime() + drain.toNanos();
                List<Future<Boolean>> results = new ArrayList<>();
                for (Session s : all) {
                    try {
                        results.add(drainers.submit(() -> s.drain(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))));
                    } catch (java.util.concurrent.RejectedExecutionException e) {
                        try {
                            s.close(); // cut before its drain started
                        } catch (AbandonedBytesException abandoned) {
                            log.info(abandoned.getMessage());
                        }
                        cut++;
                    }
                }
                for (Future<Boolean> f : results) {
                    try {
                        cut += f.get(drain.toSeconds() + 30, TimeUnit.SECONDS) ? 0 : 1;
                    } catch (Exception e) {
                        cut++;
                    }
                }
            } finally {
                drainers.shutdownNow();
            }
        }
        log.info(cut == 0 ? "stopped: every stream finished"
                : "stopped: " + cut + " session(s) had streams cut " + (drainCut ? "by the second signal" : "at the deadline"));
    }

    /**
     * Ends a drain at once (the second signal): each session's drain is interrupted, which closes
     * the session and cuts its streams; {@link #stop} then reports them.
     */
    void cutDrain() {
        drainCut = true;
        ExecutorService d = drainers;
        if (d != null) {
            d.shutdownNow();
        }
    }

    static String peer(Socket s) {
        java.net.SocketAddress a = s.getRemoteSocketAddress();
        if (a instanceof java.net.InetSocketAddress i && i.getAddress() != null) {
            return Flags.show(i);
        }
        return String.valueOf(a);
    }

    static void close(Closeable c) {
        try {
            c.close();
        } catch (IOException | RuntimeException ignored) {
            // already failing: the caller reports what matters
        }
    }
}
