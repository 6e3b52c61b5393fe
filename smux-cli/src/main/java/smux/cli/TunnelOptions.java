package smux.cli;

import java.time.Duration;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import smux.api.SmuxConfig;

/**
 * The options both ends of the tunnel take, besides where each listens and where it forwards to:
 * the idle timeout of a forwarded connection, how the session speaks, TLS, threads and stopping.
 */
final class TunnelOptions {
    @Option(names = "--idle-timeout", paramLabel = "SECONDS", defaultValue = "0",
            description = "Close a forwarded connection idle in a direction for this long (default: ${DEFAULT-VALUE}, no limit).")
    int idleSeconds;

    @Mixin
    SessionOptions session;

    @Mixin
    TlsOptions tls;

    @Mixin
    ServiceOptions service;

    private SmuxConfig.Builder sessions;

    /**
     * Checks the session, thread and TLS options, naming the flag at fault.
     *
     * @param server whether this is the tunnel server (which needs a key)
     */
    void check(CommandSpec spec, boolean server) {
        sessions = session.builder(spec, server);
        service.check(spec);
        tls.check(spec, server, session.nio());
    }

    Duration idle(CommandSpec spec) {
        return ServiceOptions.idle(spec, "--idle-timeout", idleSeconds);
    }

    /** @return the session's settings, after {@link #check}, on the workers' threads */
    SmuxConfig config(Workers workers, int perSession) {
        return ServiceOptions.sessions(sessions, session.nio(), workers, perSession);
    }

    /** @return ", TLS" when the session runs over TLS, else "": for the start-up line */
    String overTls() {
        return tls.enabled() ? ", TLS" : "";
    }
}
