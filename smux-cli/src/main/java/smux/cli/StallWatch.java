package smux.cli;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import smux.api.SmuxStream;
import smux.api.StallCause;
import smux.api.StallStats;

/**
 * Logs one line for a stream stalled past {@code --stall-log} seconds, naming the cause (the
 * library's {@link SmuxStream#stallStats()}): its writes wait for the peer's window, or for the
 * connection, or its received bytes wait for this end to read them. One thread looks at the
 * streams being served a few times per threshold; a stall is logged once, when it passes the
 * threshold (and again only if it ends and another begins).
 */
final class StallWatch implements AutoCloseable {
    private final Log log;
    private final long thresholdNanos;
    private final Map<SmuxStream, Watched> streams = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean closed;

    private static final class Watched {
        final String peer;
        /** The cause already logged for the stall going on, or null. */
        StallCause logged;

        Watched(String peer) {
            this.peer = peer;
        }
    }

    /**
     * @param threshold how long a stall lasts before it is logged; zero logs none
     */
    StallWatch(Log log, Duration threshold) {
        this.log = log;
        this.thresholdNanos = threshold.toNanos();
        if (thresholdNanos > 0) {
            thread = new Thread(this::run, "smux-stall-watch");
            thread.setDaemon(true);
            thread.start();
        } else {
            thread = null;
        }
    }

    /**
     * Watches a stream until the returned action runs (when the stream is done).
     *
     * @param peer the session's peer, for the log line
     * @return what to run when the stream is done
     */
    Runnable watch(SmuxStream stream, String peer) {
        if (thread == null) {
            return () -> { };
        }
        streams.put(stream, new Watched(peer));
        return () -> streams.remove(stream);
    }

    private void run() {
        long period = Math.max(TimeUnit.MILLISECONDS.toNanos(100), Math.min(TimeUnit.SECONDS.toNanos(1), thresholdNanos / 4));
        while (!closed) {
            try {
                TimeUnit.NANOSECONDS.sleep(period);
            } catch (InterruptedException e) {
                return;
            }
            streams.forEach(this::look);
        }
    }

    private void look(SmuxStream stream, Watched w) {
        StallStats s = stream.stallStats();
        StallCause cause = s.ongoing() != null && s.ongoingNanos() >= thresholdNanos ? s.ongoing() : null;
        if (cause != null && cause != w.logged) {
            log.info("session with " + w.peer + ": stream " + Integer.toUnsignedString(stream.id()) + " stalled for "
                    + TimeUnit.NANOSECONDS.toSeconds(s.ongoingNanos()) + " s (--stall-log): " + words(cause));
        }
        if (s.ongoing() == null || cause != null) {
            w.logged = cause;
        }
    }

    static String words(StallCause cause) {
        switch (cause) {
            case PEER_WINDOW:
                return "its writes wait for the peer's window (the peer's reader is behind or stopped reading)";
            case CONNECTION:
                return "its writes wait for the connection (the link or the socket is full)";
            default:
                return "received bytes wait unread here (this end's reader, or the target, does not take them)";
        }
    }

    @Override
    public void close() {
        closed = true;
        if (thread != null) {
            thread.interrupt();
        }
    }
}
