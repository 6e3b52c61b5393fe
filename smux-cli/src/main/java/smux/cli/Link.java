package smux.cli;

import java.io.IOException;
import java.time.Duration;
import smux.api.AbandonedBytesException;
import smux.api.Session;
import smux.api.SessionClosedException;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;

/**
 * The tunnel client's session to its server, kept up like a service keeps a connection: it
 * connects when the client starts, waits and retries with backoff (0.25 s doubling to 5 s) while
 * the server is not up, saying so, and at once when a local connection waits for a session; it
 * reconnects when the session drops, and logs each drop and reconnect. It says "connected" only
 * once a session works: {@link ServerCheck} probes the server before every session and proves the
 * session with a second probe through it (or labels it unverified, for a server that never
 * answers, such as a Go xtaci/smux server).
 */
final class Link {
    private static final long FIRST_RETRY_MILLIS = 250;
    private static final long MAX_RETRY_MILLIS = 5_000;
    private static final long MISMATCH_RETRY_MILLIS = 30_000;

    private final Log log;
    private final String name;
    private final boolean overTls;
    private final ServerCheck check;
    private Session current;
    private boolean stopped;
    private boolean wanted;
    private boolean cut;
    private Thread thread;

    Link(Log log, String host, int port, String name, SmuxConfig config, TlsOptions tls) {
        this.log = log;
        this.name = name;
        this.overTls = tls.enabled();
        this.check = new ServerCheck(host, port, name, config, tls);
    }

    void start() {
        thread = new Thread(this::run, "tunnel-link");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Waits up to {@code limit} for a live session.
     *
     * @return the session, or null if none came in time (or the link stopped)
     */
    synchronized Session await(Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        if (current == null || current.isClosed()) {
            wanted = true; // someone waits: cut the backoff short and try now
            notifyAll();
        }
        while (!stopped && (current == null || current.isClosed())) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return stopped ? null : current;
    }

    /** Stops reconnecting and drains the session: its streams get {@code drain} to finish. @return whether all did */
    boolean stop(Duration drain) {
        Session s;
        synchronized (this) {
            stopped = true;
            s = current;
            notifyAll();
        }
        if (thread != null) {
            thread.interrupt(); // ends a backoff sleep; a session wait ends with the drain
        }
        if (s == null) {
            return true;
        }
        try {
            return s.drain(drain);
        } catch (AbandonedBytesException e) {
            log.info(e.getMessage());
            return false;
        }
    }

    /** Closes a session; a close that had to drop committed bytes says so in the log. */
    private void close(Session s) {
        try {
            s.close();
        } catch (AbandonedBytesException e) {
            log.info(e.getMessage());
        }
    }

    /** Ends {@link #stop}'s drain at once (the second signal): the session closes, its streams are cut. */
    void cut() {
        Session s;
        synchronized (this) {
            cut = true;
            s = current;
        }
        if (s != null) {
            close(s);
        }
    }

    synchronized boolean wasCut() {
        return cut;
    }

    private synchronized boolean isStopped() {
        return stopped;
    }

    private synchronized boolean publish(Session s) {
        if (stopped) {
            close(s);
            return false;
        }
        current = s;
        notifyAll();
        return true;
    }

    private void run() {
        int failures = 0;
        boolean everConnected = false;
        while (!isStopped()) {
            Session s;
            try {
                s = check.open();
            } catch (IOException e) {
                // a configuration error (versions, TLS on one end) will not go away by itself soon
                boolean misconfigured = e instanceof ServerCheck.Misconfigured;
                long wait = misconfigured ? MISMATCH_RETRY_MILLIS : Math.min(MAX_RETRY_MILLIS, FIRST_RETRY_MILLIS << Math.min(failures, 10));
                failures++;
                String what = e instanceof ServerCheck.Unready ? e.getMessage()
                        : (everConnected ? "cannot reach the server at " : "waiting for the server at ") + name + ": " + Log.describe(e);
                log.info(what + "; retrying in " + seconds(wait));
                if (!sleep(wait)) {
                    return;
                }
                continue;
            }
            failures = 0;
            if (!publish(s)) {
                return;
            }
            String unverified = check.unverifiedWhy();
            log.info((everConnected ? "reconnected to " : "connected to ") + name + (overTls ? " over TLS" : "")
                    + (unverified != null ? " (" + unverified + ")" : ""));
            everConnected = true;
            String why = awaitEnd(s);
            if (isStopped()) {
                return;
            }
            close(s);
            log.info("session to " + name + " dropped: " + why + "; reconnecting");
        }
    }

    /** Blocks until the session ends. A tunnel server opens no streams: any it opens is refused. */
    private static String awaitEnd(Session s) {
        while (true) {
            try {
                SmuxStream unexpected = s.acceptStream();
                unexpected.close();
            } catch (SessionClosedException e) {
                return Log.sessionEnd(s, e, "start this end with --tls");
            } catch (IOException e) {
                return Log.describe(e);
            }
        }
    }

    /** The backoff: sleeps, unless a connection waits for a session. @return false if the link stopped */
    private synchronized boolean sleep(long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        try {
            while (!stopped && !wanted) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                wait(Math.max(1, left / 1_000_000));
            }
            wanted = false;
            return !stopped;
        } catch (InterruptedException e) {
            return false;
        }
    }

    private static String seconds(long millis) {
        return millis % 1000 == 0 ? millis / 1000 + " s" : String.format(java.util.Locale.ROOT, "%.2f s", millis / 1000.0);
    }
}
