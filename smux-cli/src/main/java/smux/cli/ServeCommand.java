package smux.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.Callable;
import javax.net.ServerSocketFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import smux.api.ProtocolException;
import smux.api.Session;
import smux.api.SessionClosedException;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;

/** {@code smux serve}: an smux server to try clients and peers against. */
@Command(name = "serve", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        description = {"Runs an smux server: every stream of every session is echoed or discarded.",
                "Logs one line per session that ends, saying how; a misbehaving peer never stops the others.",
                "SIGTERM or Ctrl-C stops it gracefully (see --drain)."})
final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--listen", paramLabel = "HOST:PORT", required = true, description = "Where to listen (port 0: any free port).")
    String listen;

    @Option(names = "--mode", paramLabel = "echo|discard", defaultValue = "echo", description = "What to do with each stream (default: ${DEFAULT-VALUE}).")
    Mode mode;

    @Option(names = "--max-streams", paramLabel = "N",
            description = "The most streams one session may have served at once; beyond it new streams are refused (closed). "
                    + "Default: 1024 on virtual threads; on Java 17 to 20, --max-threads / 16, so that a few sessions cannot take every thread.")
    Integer maxStreams;

    @Option(names = "--idle-timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "A stream that neither receives nor can send for this long is closed (default: ${DEFAULT-VALUE}; 0: no limit).")
    int idleSeconds;

    @Mixin
    SessionOptions session;

    @Mixin
    ServiceOptions service;

    enum Mode { echo, discard }

    private final Log log = new Log("serve");

    @Override
    public Integer call() throws InterruptedException {
        SmuxConfig.Builder b = session.builder(spec);
        service.check(spec);
        int perSession = service.maxStreams(spec, maxStreams, 16);
        Duration idle = ServiceOptions.idle(spec, "--idle-timeout", idleSeconds);
        try (Workers workers = service.workers("serve");
             Listener listener = Listener.bind(spec, "--listen", Flags.address(spec, "--listen", listen), session.nio(),
                     ServerSocketFactory.getDefault())) {
            if (workers.sessionThreads() != null) {
                b.threadFactory(workers.sessionThreads());
            }
            SmuxConfig config = b.transport(session.nio() ? "nio" : "socket").build();
            Server server = new Server(log, workers, "session");
            log.info("listening on " + Flags.show(listener.address()) + " (mode " + mode + ", protocol " + config.version()
                    + ", transport " + config.transport().orElseThrow() + "; streams run on " + workers.describe() + ", at most " + perSession + " per session)");
            Signals.onStop(log, () -> server.stop(service.drain()), server::cutDrain);
            server.run(listener, (connection, peer) -> serveSession(server, workers, connection, peer, config, perSession, idle));
        }
        return 0;
    }

    private void serveSession(Server server, Workers workers, Socket connection, String peer, SmuxConfig config,
                              int perSession, Duration idle) throws IOException {
        Session s = Smux.server(connection, config);
        if (!server.track(s, peer)) {
            s.close();
            return;
        }
        Server.Slots slots = new Server.Slots(perSession);
        boolean draining = false;
        try {
            while (true) {
                SmuxStream stream = s.acceptStream();
                if (!slots.tryEnter()) {
                    stream.close();
                    if (slots.refusedOne()) {
                        log.info("session from " + peer + ": refusing new streams while " + perSession + " are served (--max-streams)");
                    }
                    continue;
                }
                try {
                    workers.execute(() -> serveStream(stream, idle, slots));
                } catch (Throwable t) {
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
                log.info("session from " + peer + " ended: " + describeEnd(s, e, "smux serve speaks plain smux only") + slots.summary());
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
     * How a session ended, in words that say what to do about a misconfiguration.
     *
     * @param plainOnly what to say when the peer spoke TLS to this plain end
     */
    static String describeEnd(Session s, SessionClosedException e, String plainOnly) {
        return s.closeCause().map(c -> {
            if (c.getCause() instanceof ProtocolException p && p.violation() == ProtocolException.Violation.WRONG_VERSION) {
                return "the peer speaks another protocol version (" + p.getMessage() + "); start both ends with the same --protocol";
            }
            if (c.getCause() instanceof ProtocolException p && p.violation() == ProtocolException.Violation.TLS_RECORD) {
                return "the peer speaks TLS (its first bytes were a TLS record, not an smux frame); " + plainOnly;
            }
            return c.getMessage();
        }).orElse(e.getMessage());
    }

    private void serveStream(SmuxStream stream, Duration idle, Server.Slots slots) {
        try (stream; InputStream in = stream.inputStream()) {
            stream.setReadTimeout(idle);
            stream.setWriteTimeout(idle);
            if (mode == Mode.echo) {
                OutputStream out = stream.outputStream();
                in.transferTo(out);
                stream.closeWrite();
            } else {
                in.transferTo(OutputStream.nullOutputStream());
            }
        } catch (IOException | RuntimeException e) {
            // this stream ends (idle, reset); the session goes on and reports its own end
        } catch (OutOfMemoryError e) {
            Server.onOutOfMemory(); // this stream ends; the session that buffers the most is closed
        } finally {
            slots.exit();
        }
    }
}
