package smux.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.Callable;
import javax.net.ServerSocketFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import smux.api.Session;
import smux.api.SessionClosedException;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;

/** The far end of the tunnel: takes smux sessions and connects each stream to the target. */
@Command(name = "server", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        description = {"Accepts smux sessions on --listen; connects each stream to --target.",
                "SIGTERM or Ctrl-C stops it gracefully: no new sessions or streams, open streams get --drain seconds to finish."})
final class TunnelServerCommand implements Callable<Integer> {
    private static final int CONNECT_TIMEOUT_MILLIS = 10_000;

    @Spec
    CommandSpec spec;

    @Option(names = "--listen", paramLabel = "HOST:PORT", required = true, description = "Where tunnel clients connect.")
    String listen;

    @Option(names = "--target", paramLabel = "HOST:PORT", required = true, description = "Where each stream is forwarded.")
    String target;

    @Option(names = "--max-streams", paramLabel = "N",
            description = "The most streams one session may have forwarded at once; beyond it new streams are refused (closed). "
                    + "Default: 1024; on Java 17 to 20 at most --max-threads / 2 (each forwarded stream takes two threads).")
    Integer maxStreams;

    @Option(names = "--idle-timeout", paramLabel = "SECONDS", defaultValue = "0",
            description = "Close a forwarded connection idle in a direction for this long (default: ${DEFAULT-VALUE}, no limit).")
    int idleSeconds;

    @Mixin
    SessionOptions session;

    @Mixin
    TlsOptions tls;

    @Mixin
    ServiceOptions service;

    private final Log log = new Log("tunnel server");

    @Override
    public Integer call() throws InterruptedException {
        SmuxConfig.Builder b = session.builder(spec);
        service.check(spec);
        tls.check(spec, true, session.nio());
        InetSocketAddress to = Flags.address(spec, "--target", target);
        int perSession = service.maxStreams(spec, maxStreams, 2);
        Duration idle = ServiceOptions.idle(spec, "--idle-timeout", idleSeconds);
        try (Workers workers = service.workers("tunnel-server");
             Listener listener = Listener.bind(spec, "--listen", Flags.address(spec, "--listen", listen), session.nio(),
                     ServerSocketFactory.getDefault())) {
            if (workers.sessionThreads() != null) {
                b.threadFactory(workers.sessionThreads());
            }
            SmuxConfig config = b.transport(session.nio() ? "nio" : "socket").build();
            Server server = new Server(log, workers, "session");
            log.info("listening on " + Flags.show(listener.address()) + ", forwarding to " + target + " (protocol "
                    + config.version() + (tls.enabled() ? ", TLS" : "") + "; streams run on " + workers.describe() + ", at most " + perSession + " per session)");
            Signals.onStop(log, () -> server.stop(service.drain()), server::cutDrain);
            Forward forward = new Forward(to.getHostString(), to.getPort(), workers, idle);
            server.run(listener, (connection, peer) -> serveSession(server, forward, connection, peer, config, perSession));
        }
        return 0;
    }

    private void serveSession(Server server, Forward forward, Socket accepted, String peer, SmuxConfig config, int perSession)
            throws IOException {
        Socket connection;
        try {
            connection = tls.accept(accepted);
        } catch (TlsOptions.PlainPeer e) {
            Server.close(accepted);
            log.info("connection from " + peer + " refused: " + e.getMessage());
            return;
        } catch (IOException e) {
            Server.close(accepted);
            log.info("TLS handshake with " + peer + " failed: " + Log.describe(e));
            return;
        }
        Session s = Smux.server(connection, config);
        if (!server.track(s, peer)) {
            s.close();
            return;
        }
        log.info("session from " + peer + " started");
        Server.Slots slots = new Server.Slots(perSession);
        boolean draining = false;
        try {
            while (true) {
                SmuxStream stream = s.acceptStream();
                if (!slots.tryEnter()) {
                    stream.close();
                    if (slots.refusedOne()) {
                        log.info("session from " + peer + ": refusing new streams while " + perSession + " are forwarded (--max-streams)");
                    }
                    continue;
                }
                try {
                    forward.workers.execute(() -> forward.connect(stream, slots, peer));
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
                log.info("session from " + peer + " ended: " + ServeCommand.describeEnd(s, e, "start this end with --tls") + slots.summary());
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

    /** Connects one stream to the target (resolved again each time, as DNS may change) and pipes it. */
    private final class Forward {
        final String host;
        final int port;
        final Workers workers;
        final Duration idle;

        Forward(String host, int port, Workers workers, Duration idle) {
            this.host = host;
            this.port = port;
            this.workers = workers;
            this.idle = idle;
        }

        void connect(SmuxStream stream, Server.Slots slots, String peer) {
            Socket out = new Socket();
            try {
                out.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MILLIS);
                out.setTcpNoDelay(true);
            } catch (IOException | RuntimeException e) {
                log.info("cannot reach " + target + " for a stream of the session from " + peer + ": " + Log.describe(e));
                stream.close();
                Server.close(out);
                slots.exit();
                return;
            }
            try {
                Pipe.start(out, stream, workers, idle, slots::exit);
            } catch (RuntimeException | Error e) {
                log.info("a stream of the session from " + peer + " was closed: " + Log.reason(e));
            }
        }
    }
}
