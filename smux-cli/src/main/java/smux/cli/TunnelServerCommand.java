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

    @Mixin
    TunnelOptions tunnel;

    private static final SessionServer.Words WORDS = new SessionServer.Words("forwarded", "start this end with --tls", true);

    private final Log log = new Log("tunnel server");

    @Override
    public Integer call() throws InterruptedException {
        tunnel.check(spec, true);
        InetSocketAddress to = Flags.address(spec, "--target", target);
        int perSession = tunnel.service.maxStreams(spec, maxStreams, 2);
        Duration idle = tunnel.idle(spec);
        try (Workers workers = tunnel.service.workers("tunnel-server");
             Listener listener = Listener.bind(spec, listen, tunnel.session.nio());
             StallWatch stalls = tunnel.service.stallWatch(log)) {
            SmuxConfig config = tunnel.config(workers, perSession);
            SessionServer server = new SessionServer(log, workers, config, perSession, WORDS, false, stalls);
            Forward forward = new Forward(to.getHostString(), to.getPort(), workers, idle);
            String details = ", forwarding to " + target + " (protocol " + SessionOptions.protocolName(config) + tunnel.overTls() + "; " + server.capacity() + ")";
            server.run(listener, details, tunnel.service.drain(), this::handshake, forward::connect);
        }
        return 0;
    }

    /** With --tls, the TLS handshake; a peer that fails it is refused, with a line that says why. */
    private Socket handshake(Socket accepted, String peer) {
        try {
            return tunnel.tls.accept(accepted);
        } catch (TlsOptions.PlainPeer e) {
            Server.close(accepted);
            log.info("connection from " + peer + " refused: " + e.getMessage());
        } catch (IOException e) {
            Server.close(accepted);
            log.info("TLS handshake with " + peer + " failed: " + Log.describe(e));
        }
        return null;
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

        void connect(SmuxStream stream, String peer, Runnable done) {
            Socket out = new Socket();
            try {
                out.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MILLIS);
                out.setTcpNoDelay(true);
            } catch (IOException | RuntimeException e) {
                log.info("cannot reach " + target + " for a stream of the session from " + peer + ": " + Log.describe(e));
                stream.close();
                Server.close(out);
                done.run();
                return;
            }
            try {
                Pipe.start(out, stream, workers, idle, done);
            } catch (RuntimeException | Error e) {
                log.info("a stream of the session from " + peer + " was closed: " + Log.reason(e));
            }
        }
    }
}
