package smux.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
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
                    + "Default: 1024 (10,000 and more work too: see docs/PROTOCOL.md); on Java 17 to 20 also at most half of the "
                    + "--max-threads left free, so that a few sessions cannot take every thread.")
    Integer maxStreams;

    @Option(names = "--idle-timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "A stream that neither receives nor can send for this long is closed (default: ${DEFAULT-VALUE}; 0: no limit).")
    int idleSeconds;

    @Mixin
    SessionOptions session;

    @Mixin
    ServiceOptions service;

    enum Mode { echo, discard }

    private static final SessionServer.Words WORDS = new SessionServer.Words("served", "smux serve speaks plain smux only", false);

    private final Log log = new Log("serve");

    @Override
    public Integer call() throws InterruptedException {
        SmuxConfig.Builder b = session.builder(spec, true);
        service.check(spec);
        int perSession = service.maxStreams(spec, maxStreams, 1);
        Duration idle = ServiceOptions.idle(spec, "--idle-timeout", idleSeconds);
        try (Workers workers = service.workers("serve"); Listener listener = Listener.bind(spec, listen, session.nio());
             StallWatch stalls = service.stallWatch(log)) {
            SmuxConfig config = ServiceOptions.sessions(b, session.nio(), workers, perSession);
            SessionServer server = new SessionServer(log, workers, config, perSession, WORDS, true, stalls);
            String details = " (mode " + mode + ", protocol " + SessionOptions.protocolName(config) + ", transport " + config.transport().orElseThrow()
                    + "; " + server.capacity() + ")";
            server.run(listener, details, service.drain(), SessionServer.Handshake.NONE, (stream, peer, done) -> serveStream(stream, idle, done));
        }
        return 0;
    }

    private void serveStream(SmuxStream stream, Duration idle, Runnable done) {
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
            done.run();
        }
    }
}
