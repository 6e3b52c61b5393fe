package smux.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import smux.api.Session;
import smux.api.SessionClosedException;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;

/** The near end of the tunnel: accepts local TCP connections and carries each as a stream of one session. */
@Command(name = "client", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        description = {"Accepts TCP connections on --listen; carries each as a stream to the tunnel --server.",
                "Keeps the session up: waits for the server, retries with backoff, reconnects after a drop.",
                "SIGTERM or Ctrl-C stops it gracefully: no new connections, open ones get --drain seconds to finish."})
final class TunnelClientCommand implements Callable<Integer> {
    /** How long a local connection waits for a session to the server before it is closed. */
    private static final Duration SESSION_WAIT = Duration.ofSeconds(10);

    @Spec
    CommandSpec spec;

    @Option(names = "--listen", paramLabel = "HOST:PORT", required = true, description = "Where local applications connect.")
    String listen;

    @Option(names = "--server", paramLabel = "HOST:PORT", required = true, description = "The tunnel server.")
    String server;

    @Mixin
    TunnelOptions tunnel;

    private final Log log = new Log("tunnel client");

    @Override
    public Integer call() throws InterruptedException {
        tunnel.check(spec, false);
        InetSocketAddress to = Flags.address(spec, "--server", server);
        Duration idle = tunnel.idle(spec);
        ServiceOptions service = tunnel.service;
        try (Workers workers = service.workers("tunnel-client"); Listener listener = Listener.bind(spec, listen, false);
             StallWatch stalls = service.stallWatch(log)) {
            SmuxConfig config = tunnel.config(workers, 0);
            Link link = new Link(log, to.getHostString(), to.getPort(), server, config, tunnel.tls);
            Server acceptor = new Server(log, workers, "connection");
            log.info("listening on " + Flags.show(listener.address()) + ", forwarding to " + server + " (protocol "
                    + config.version() + tunnel.overTls() + ")");
            Signals.onStop(log, () -> {
                try {
                    acceptor.stopAccepting();
                    log.info("stopping: no new connections; open ones have up to " + service.drainSeconds + " s (--drain) to finish");
                    log.info(link.stop(service.drain()) ? "stopped: every stream finished"
                            : "stopped: streams were cut " + (link.wasCut() ? "by the second signal" : "at the deadline"));
                } finally {
                    acceptor.stopped();
                }
            }, link::cut);
            link.start();
            acceptor.run(listener, (local, peer) -> forward(link, workers, local, peer, idle, stalls));
        }
        return 0;
    }

    private void forward(Link link, Workers workers, Socket local, String peer, Duration idle, StallWatch stalls) throws Exception {
        local.setTcpNoDelay(true);
        for (int attempt = 0; ; attempt++) {
            Session s = link.await(SESSION_WAIT);
            if (s == null) {
                Server.close(local);
                log.info("no session to " + server + " within " + SESSION_WAIT.toSeconds() + " s: closed the connection from " + peer);
                return;
            }
            SmuxStream stream;
            try {
                stream = s.openStream();
            } catch (SessionClosedException e) {
                if (attempt == 0) {
                    continue; // the session just dropped: the link is reconnecting
                }
                throw e;
            } catch (IOException e) {
                Server.close(local);
                log.info("cannot open a stream for the connection from " + peer + ": " + Log.describe(e));
                return;
            }
            Pipe.start(local, stream, workers, idle, stalls.watch(stream, server));
            return;
        }
    }
}
