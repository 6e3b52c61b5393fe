package smux.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.time.Duration;
import smux.api.AbandonedBytesException;
import smux.api.Session;
import smux.api.SessionClosedException;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;

/**
 * The tunnel client's session to its server, kept up like a service keeps a connection: it
 * connects when the client starts, waits and retries with backoff (0.25 s doubling to 5 s) while
 * the server is not up, saying so, and at once when a local connection waits for a session; it
 * reconnects when the session drops, and logs each drop and reconnect.
 *
 * <p>Before each session it probes the server on the same connection ({@link Smux#isSmux}). If
 * the server does not answer, a second probe with the other protocol version, on a fresh
 * connection, tells a version mismatch (reported as that) from a server that does not know the
 * probe, such as a Go xtaci/smux server; with the latter the link carries streams unverified
 * and stops probing it.
 */
final class Link {
    private static final int CONNECT_TIMEOUT_MILLIS = 10_000;
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(3);
    private static final long FIRST_RETRY_MILLIS = 250;
    private static final long MAX_RETRY_MILLIS = 5_000;
    private static final long MISMATCH_RETRY_MILLIS = 30_000;

    private final Log log;
    private final String host;
    private final int port;
    private final String name;
    private final SmuxConfig config;
    private final TlsOptions tls;
    private Session current;
    private boolean stopped;
    private boolean unverifiable;
    private boolean wanted;
    private Thread thread;

    Link(Log log, String host, int port, String name, SmuxConfig config, TlsOptions tls) {
        this.log = log;
        this.host = host;
        this.port = port;
        this.name = name;
        this.config = config;
        this.tls = tls;
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
                s = connect();
            } catch (IOException e) {
                // a version mismatch is a configuration error: it will not go away by itself soon
                long wait = e instanceof Mismatch ? MISMATCH_RETRY_MILLIS : Math.min(MAX_RETRY_MILLIS, FIRST_RETRY_MILLIS << Math.min(failures, 10));
                failures++;
                String what = e instanceof Mismatch ? e.getMessage()
                        : (everConnected ? "cannot reach the server at " : "waiting for the server at ") + name + ": " + Main.describe(e);
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
            log.info((everConnected ? "reconnected to " : "connected to ") + name + (tls.enabled() ? " over TLS" : "")
                    + (unverifiable ? " (unverified: it does not answer the smux probe; a Go xtaci/smux server?)" : ""));
            everConnected = true;
            String why = awaitEnd(s);
            if (isStopped()) {
                return;
            }
            close(s);
            log.info("session to " + name + " dropped: " + why + "; reconnecting");
        }
    }

    private Session connect() throws IOException {
        InetSocketAddress to = new InetSocketAddress(host, port); // resolved again: addresses may change
        if (to.isUnresolved()) {
            throw new UnknownHostException("'" + host + "'");
        }
        if (!unverifiable) {
            Socket socket = tls.dial(to, host, CONNECT_TIMEOUT_MILLIS);
            boolean smux;
            try {
                smux = Smux.isSmux(socket, config.toBuilder().probeTimeout(PROBE_TIMEOUT).build());
            } catch (RuntimeException e) {
                Server.close(socket);
                throw e;
            }
            if (smux) {
                return Smux.client(socket, config); // the probe left the connection ready for the session
            }
            Server.close(socket); // spent: a peer that did not answer may have stopped reading it
            int other = 3 - config.version();
            Socket second = tls.dial(to, host, CONNECT_TIMEOUT_MILLIS);
            try {
                if (Smux.isSmux(second, config.toBuilder().version(other).probeTimeout(PROBE_TIMEOUT).build())) {
                    throw new Mismatch("the server at " + name + " speaks smux protocol version " + other + ", this client "
                            + config.version() + ": start both ends with the same --protocol");
                }
            } finally {
                Server.close(second);
            }
            unverifiable = true;
        }
        return Smux.client(tls.dial(to, host, CONNECT_TIMEOUT_MILLIS), config);
    }

    /** Blocks until the session ends. A tunnel server opens no streams: any it opens is refused. */
    private static String awaitEnd(Session s) {
        while (true) {
            try {
                SmuxStream unexpected = s.acceptStream();
                unexpected.close();
            } catch (SessionClosedException e) {
                return ServeCommand.describeEnd(s, e);
            } catch (IOException e) {
                return Main.describe(e);
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

    /** The server speaks the other protocol version. */
    private static final class Mismatch extends IOException {
        private static final long serialVersionUID = 1L;

        Mismatch(String message) {
            super(message);
        }
    }
}
