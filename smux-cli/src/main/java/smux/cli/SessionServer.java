package smux.cli;

import java.io.IOException;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import smux.api.Session;
import smux.api.SessionClosedException;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;

/**
 * What {@code serve} and {@code tunnel server} share once their options are checked: they accept
 * connections ({@link Server}), run an smux session over each, and serve every stream the peer
 * opens on a worker of its own, at most {@code perSession} at once per session: beyond that a
 * stream is refused (closed at once; the peer reads end-of-stream), the first refusal logged at
 * once and the count when the session ends. Each session's end is logged in words that say what
 * to do about a misconfiguration, and a stream stalled past {@code --stall-log} gets a line naming
 * the cause ({@link StallWatch}). On SIGTERM or Ctrl-C the sessions drain ({@link Server#stop}).
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
    private final StallWatch stalls;

    /**
     * @param workers where the sessions and their streams are served
     * @param config the sessions' settings
     * @param perSession the most streams one session may have served at once
     */
    SessionServer(Log log, Workers workers, SmuxConfig config, int perSession, Words words, StallWatch stalls) {
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
        return "streams run on " + workers.describe() + ", at most " + perSession + " per session";
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
        boolean draining = false;
        try {
            while (true) {
                SmuxStream stream = s.acceptStream();
                if (!slots.tryEnter()) {
                    stream.close();
                    if (slots.refusedOne()) {
                        log.info("session from " + peer + ": refusing new streams while " + perSession + " are " + words.inService()
                                + " (--max-streams)");
                    }
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
                    if (slots.refusedOne()) {
                        log.info("session from " + peer + ": refusing new streams: " + Log.reason(t));
                    }
                }
            }
        } catch (SessionClosedException e) {
            draining = server.stopping() && !s.isClosed();
            if (!draining) {
                log.info("session from " + peer + " ended: " + Log.sessionEnd(s, e, words.tlsPeerAdvice()) + slots.summary());
            }
        } catch (IOException e) {
            log.info("session from " + peer + " ended: " + Log.describe(e) + slots.summary());
        } finally {
            if (!draining) {
                s.close(); // a draining session is closed by the drain, when its streams are done
            }
            server.untrack(s);
        }
    }

    /**
     * The most streams one session may have served at once; beyond it a new stream is refused.
     * The first refusal of a session is logged at once, the count when the session ends.
     */
    private static final class Slots {
        private final int max;
        private final AtomicInteger active = new AtomicInteger();
        private final AtomicInteger refused = new AtomicInteger();

        Slots(int max) {
            this.max = max;
        }

        boolean tryEnter() {
            while (true) {
                int n = active.get();
                if (n >= max) {
                    return false;
                }
                if (active.compareAndSet(n, n + 1)) {
                    return true;
                }
            }
        }

        void exit() {
            active.decrementAndGet();
        }

        /** @return whether this is the session's first refusal (to log) */
        boolean refusedOne() {
            return refused.incrementAndGet() == 1;
        }

        /** @return "; 12 stream(s) were refused" or "" */
        String summary() {
            int n = refused.get();
            return n == 0 ? "" : "; " + n + " stream(s) were refused";
        }
    }
}
