package smux.cli;

import java.io.IOException;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import smux.api.Session;
import smux.api.SessionClosedException;
import smux.api.SessionStats;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;

/**
 * What {@code serve} and {@code tunnel server} share once their options are checked: they accept
 * connections ({@link Server}), run an smux session over each, and serve every stream the peer
 * opens on a worker of its own, at most {@code perSession} at once per session (and, on a pool of
 * platform threads, at most its fair share of the pool, {@link Workers#tryTake}): beyond that a
 * stream is refused (closed at once; the peer reads end-of-stream). Refusals, the server's and the
 * session's own (streams the library refused or shed for its limits, {@link SessionStats}), are
 * logged as one line with counts, at most one per session every {@link Refusals#LOG_EVERY_NANOS},
 * and the totals when the session ends. Each session's end is logged in words that say what
 * to do about a misconfiguration. A stream stalled past {@code --stall-log} gets a line
 * naming the cause ({@link StallWatch}). On SIGTERM or Ctrl-C the sessions drain ({@link Server#stop}).
 *
 * <p>What differs is the command's: how one stream is served ({@link Streams}), and for the
 * tunnel, the TLS handshake before the session ({@link Handshake}).
 */
final class SessionServer {
    /** Serves one stream, on a worker of its own. */
    interface Streams {
        /**
         * @param peer the session's peer, for the log
         * @param done runs once, when the stream is over (it frees the session's slot)
         */
        void serve(SmuxStream stream, String peer, Runnable done);
    }

    /** Makes an accepted connection ready for a session. */
    interface Handshake {
        /** A plain server: the connection as it is. */
        Handshake NONE = (accepted, peer) -> accepted;

        /** @return the socket the session runs over, or null if the connection was refused (closed, and logged) */
        Socket complete(Socket accepted, String peer);
    }

    /**
     * How the log speaks of this command's streams and sessions.
     *
     * @param inService what a stream being served is, in "refusing new streams while 10 are ..."
     * @param tlsPeerAdvice what to do when the peer speaks TLS to this plain end
     * @param logStarts whether each session's start has a line (a tunnel session is a user's whole tunnel)
     */
    record Words(String inService, String tlsPeerAdvice, boolean logStarts) {
    }

    private final Log log;
    private final Workers workers;
    private final SmuxConfig config;
    private final int perSession;
    private final Words words;
    private final Server server;
    /** Whether each stream takes a share of the platform pool ({@code serve}; the tunnel's one session may take all of it). */
    private final boolean fairShare;
    private final StallWatch stalls;

    /**
     * @param workers where the sessions and their streams are served
     * @param config the sessions' settings
     * @param perSession the most streams one session may have served at once
     */
    SessionServer(Log log, Workers workers, SmuxConfig config, int perSession, Words words, boolean fairShare,
                  StallWatch stalls) {
        this.fairShare = fairShare;
        this.stalls = stalls;
        this.log = log;
        this.workers = workers;
        this.config = config;
        this.perSession = perSession;
        this.words = words;
        this.server = new Server(log, workers, "session");
    }

    /** @return the part of the start-up line that says where streams run and how many a session may have */
    String capacity() {
        return "streams run on " + workers.describe() + ", at most " + perSession + " per session"
                + (fairShare && workers.bounded() ? " (and at most half of the threads left free)" : "");
    }

    /**
     * Logs that it listens, then serves until SIGTERM or Ctrl-C and the drain that follows.
     *
     * @param details the rest of the start-up line, after the address
     * @param drain how long the streams in flight may take to finish once a stop begins
     */
    void run(Listener listener, String details, Duration drain, Handshake handshake, Streams streams) throws InterruptedException {
        log.info("listening on " + Flags.show(listener.address()) + details);
        Signals.onStop(log, () -> server.stop(drain), server::cutDrain);
        server.run(listener, (accepted, peer) -> {
            Socket connection = handshake.complete(accepted, peer);
            if (connection != null) {
                serve(connection, peer, streams);
            }
        });
    }

    private void serve(Socket connection, String peer, Streams streams) throws IOException {
        Session s = Smux.server(connection, config);
        if (!server.track(s, peer)) {
            s.close();
            return;
        }
        if (words.logStarts()) {
            log.info("session from " + peer + " started");
        }
        Slots slots = new Slots(perSession);
        Refusals refusals = new Refusals(log, peer, s, words, perSession);
        boolean draining = false;
        try {
            while (true) {
                SmuxStream stream = s.acceptStream();
                String why = slots.tryEnter();
                if (why != null) {
                    stream.close();
                    refusals.refused(why);
                    continue;
                }
                Runnable unwatch = stalls.watch(stream, peer);
                try {
                    workers.execute(() -> streams.serve(stream, peer, () -> {
                        unwatch.run();
                        slots.exit();
                    }));
                } catch (Throwable t) {
                    unwatch.run();
                    slots.exit();
                    stream.close();
                    refusals.refused(Log.reason(t));
                    continue;
                }
                refusals.accepted();
            }
        } catch (SessionClosedException e) {
            draining = server.stopping() && !s.isClosed();
            if (!draining) {
                log.info("session from " + peer + " ended: " + Log.sessionEnd(s, e, words.tlsPeerAdvice()) + refusals.summary());
            }
        } catch (IOException e) {
            log.info("session from " + peer + " ended: " + Log.describe(e) + refusals.summary());
        } finally {
            if (!draining) {
                s.close(); // a draining session is closed by the drain, when its streams are done
            }
            server.untrack(s);
        }
    }

    /**
     * The most streams one session may have served at once ({@code perSession}), and on a bounded
     * pool of platform threads with {@code fairShare}, at most the session's fair share of the pool.
     */
    private final class Slots {
        private final int max;
        private final AtomicInteger active = new AtomicInteger();

        Slots(int max) {
            this.max = max;
        }

        /** @return null if the stream may be served (a slot is taken), else why not, for the log */
        String tryEnter() {
            while (true) {
                int n = active.get();
                if (n >= max) {
                    return max + " are " + words.inService() + " (--max-streams)";
                }
                if (active.compareAndSet(n, n + 1)) {
                    break;
                }
            }
            if (fairShare && !workers.tryTake(active.get() - 1)) {
                active.decrementAndGet();
                return "the session holds its share of the worker threads (" + workers.taken() + " of " + workers.limit()
                        + " busy; a session may take at most half of those left free; --max-threads)";
            }
            return null;
        }

        void exit() {
            active.decrementAndGet();
            if (fairShare) {
                workers.give();
            }
        }
    }

    /**
     * What was refused on one session, said in one line with counts, at most one line every
     * {@link #LOG_EVERY_NANOS}, and in the line that reports the session's end: the streams this
     * server refused ({@code --max-streams}, threads) and those the session refused or shed for its
     * own limits (maxStreams, the accept backlog, memory: {@link SessionStats#streamsRefused()},
     * {@link SessionStats#streamsShed()}).
     */
    static final class Refusals {
        /** At most one line about refusals per session this often. */
        static final long LOG_EVERY_NANOS = 10_000_000_000L;
        /** How often accepting streams looks at the session's own counts. */
        private static final long CHECK_EVERY_NANOS = 1_000_000_000L;

        private final Log log;
        private final String peer;
        private final Session session;
        private final Words words;
        private final int perSession;
        private final AtomicInteger refused = new AtomicInteger();
        private volatile String lastReason;
        private long lastLine;
        private long lastCheck;
        private boolean logged;
        private long loggedTotal;

        Refusals(Log log, String peer, Session session, Words words, int perSession) {
            this.log = log;
            this.peer = peer;
            this.session = session;
            this.words = words;
            this.perSession = perSession;
            this.lastCheck = System.nanoTime();
        }

        /** This server refused a stream (it was closed at once). Called by the accepting thread. */
        void refused(String why) {
            refused.incrementAndGet();
            lastReason = why;
            maybeLog(System.nanoTime(), true);
        }

        /** A stream was accepted and is served: now and then, look at what the session itself refused or shed. */
        void accepted() {
            long now = System.nanoTime();
            if (now - lastCheck >= CHECK_EVERY_NANOS) {
                lastCheck = now;
                maybeLog(now, false);
            }
        }

        private void maybeLog(long now, boolean refusedHere) {
            if (logged && now - lastLine < LOG_EVERY_NANOS) {
                return;
            }
            SessionStats st = stats();
            long total = refused.get() + (st == null ? 0 : st.streamsRefused() + st.streamsShed());
            if (total == loggedTotal || (!refusedHere && total == refused.get())) {
                return;
            }
            logged = true;
            lastLine = now;
            loggedTotal = total;
            log.info("session from " + peer + ": refusing streams: " + counts(st));
        }

        private SessionStats stats() {
            try {
                return session.stats();
            } catch (RuntimeException e) {
                return null;
            }
        }

        /** @return "; 12 stream(s) were refused ..." for the end of the session, or "" */
        String summary() {
            SessionStats st = stats();
            long total = refused.get() + (st == null ? 0 : st.streamsRefused() + st.streamsShed());
            return total == 0 ? "" : "; " + counts(st);
        }

        private String counts(SessionStats st) {
            StringBuilder b = new StringBuilder();
            int here = refused.get();
            if (here > 0) {
                b.append(here).append(" stream(s) were refused here (the last because ").append(lastReason).append(')');
            }
            if (st != null && st.streamsRefused() > 0) {
                b.append(b.length() > 0 ? ", " : "").append(st.streamsRefused())
                        .append(" stream(s) were refused by the session's limits (maxStreams ").append(st.maxStreams())
                        .append(", the accept backlog, or memory)");
            }
            if (st != null && st.streamsShed() > 0) {
                b.append(b.length() > 0 ? ", " : "").append(st.streamsShed())
                        .append(" stream(s) were shed: the shared memory budget (").append(st.memoryBudgetCapacity() >> 20)
                        .append(" MiB, -Dsmux.memoryBudget or the heap) had no room for what they held unread");
            }
            return b.toString();
        }
    }
}
