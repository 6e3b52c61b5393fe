package smux.cli;

import java.time.Duration;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import smux.api.SmuxConfig;

/**
 * The options of the long-running commands ({@code serve}, {@code tunnel server}, {@code tunnel
 * client}) about threads and stopping, and the checks and settings those commands share: the
 * stream limit of a session, the idle timeout, the threads the sessions run on.
 */
final class ServiceOptions {
    @Option(names = "--max-threads", paramLabel = "N", defaultValue = "2048",
            description = {"Java 17 to 20: the most platform threads serving sessions and streams at once (default: ${DEFAULT-VALUE}); "
                    + "work beyond it is refused with a log line. Java 21 and later serve each stream on a virtual thread instead."})
    int maxThreads;

    @Option(names = "--drain", paramLabel = "SECONDS", defaultValue = "10",
            description = "On SIGTERM or Ctrl-C: how long the streams in flight may take to finish before the sessions close "
                    + "(default: ${DEFAULT-VALUE}); a second signal cuts them at once.")
    int drainSeconds;

    @Option(names = "--stall-log", paramLabel = "SECONDS", defaultValue = "10",
            description = "Log one line for a stream stalled this long, naming why: waiting for the peer's window, for the "
                    + "connection, or for this end to read (default: ${DEFAULT-VALUE}; 0: never).")
    int stallLogSeconds;

    @Option(names = "--platform-threads", hidden = true,
            description = "Use the bounded pool of platform threads even on Java 21+ (to compare the two).")
    boolean platformThreads;

    void check(CommandSpec spec) {
        Flags.range(spec, "--max-threads", maxThreads, 4, 100_000, " threads");
        Flags.range(spec, "--drain", drainSeconds, 0, 86_400, " seconds");
        Flags.range(spec, "--stall-log", stallLogSeconds, 0, 86_400, " seconds (0: never)");
    }

    /** @return the watch that logs stalled streams (--stall-log); close it when the command ends */
    StallWatch stallWatch(Log log) {
        return new StallWatch(log, Duration.ofSeconds(stallLogSeconds));
    }

    Duration drain() {
        return Duration.ofSeconds(drainSeconds);
    }

    Workers workers(String name) {
        return Workers.create(name, maxThreads, !platformThreads);
    }

    /**
     * @param b the sessions' settings from {@link SessionOptions#builder}
     * @param nio whether the NIO transport was asked for
     * @param perSession the streams one session may have served at once: the session admits at least as many
     * @return the settings of the sessions a long-running command runs: the transport named
     *     (socket unless nio), and on virtual threads the workers' threads for the transports
     */
    static SmuxConfig sessions(SmuxConfig.Builder b, boolean nio, Workers workers, int perSession) {
        if (perSession > SmuxConfig.defaults().maxStreams()) {
            // the session admits as many as are served (its memory rule: docs/PROTOCOL.md), all of them
            // opened at once if the peer likes, before the accept loop takes the first
            b.maxStreams(perSession).acceptBacklog(perSession);
        }
        if (workers.sessionThreads() != null) {
            b.threadFactory(workers.sessionThreads());
        }
        return b.transport(nio ? "nio" : "socket").build();
    }

    static Duration idle(CommandSpec spec, String flag, int seconds) {
        Flags.range(spec, flag, seconds, 0, 86_400, " seconds (0: no limit)");
        return Duration.ofSeconds(seconds);
    }

    /**
     * The per-session cap on streams served at once: 1024 (the library's stream limit) on virtual
     * threads; on the platform pool of Java 17 to 20, the pool's threads divided by
     * {@code threadsPerStream}, at most 1024. For {@code serve}, whose many independent clients
     * must not starve one another, the pool's fair share bounds each session further
     * ({@link Workers#tryTake}): one session may take half of the pool, 1023 of the default 2048.
     *
     * @param threadsPerStream the threads one stream takes: 1 for {@code serve}; 2 for the tunnel
     *     server (one per direction), whose one client session carries all of its user's connections
     */
    int maxStreams(CommandSpec spec, Integer asked, int threadsPerStream) {
        if (asked != null) {
            return (int) Flags.range(spec, "--max-streams", asked, 1, 1_000_000, " streams");
        }
        return Workers.virtualThreadsAvailable() && !platformThreads ? 1024 : Math.max(4, Math.min(1024, maxThreads / threadsPerStream));
    }
}
