package smux.cli;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.bench.core.Bench;
import smux.bench.core.JsonReport;
import smux.bench.core.Plan;
import smux.bench.core.Results;
import smux.bench.core.Section;
import smux.bench.core.TextReport;

/**
 * {@code smux bench}: throughput and round trip of smux against raw TCP, per transport and
 * stream count, plus heap per idle stream and one NIO loop holding many sessions. The work is in
 * smux-bench-core ({@link Bench} runs, {@link TextReport} and {@link JsonReport} report); this class
 * reads the options and prints.
 */
@Command(name = "bench", sortOptions = false, mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Measures smux against raw TCP over loopback: throughput, round trip, memory (about 100 s by default).",
                "  throughput for each stream count (N streams of one session vs N TCP connections; 128 KiB writes),",
                "  64-byte round trip on one stream (p50/p99), heap per idle stream, one NIO loop holding 1,000 sessions.",
                "Reports ratios smux / raw TCP. With --peer, measures smux client throughput against a remote",
                "discard server (e.g. 'smux serve --mode discard' or a Go xtaci/smux server) instead.",
                "--transport restricts the run to one transport (or a comma list: socket,nio)."})
final class BenchCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    SessionOptions session;

    @Option(names = "--streams", paramLabel = "N,N,...", split = ",", defaultValue = "1,100,1000",
            description = "Stream counts for the throughput cases (default: ${DEFAULT-VALUE}).")
    List<Integer> streams;

    @Option(names = "--duration", paramLabel = "SECONDS", defaultValue = "5",
            description = "Measured seconds per case, after a ramp-up (default: ${DEFAULT-VALUE}).")
    double duration;

    @Option(names = "--staging", paramLabel = "BYTES", split = ",",
            description = {"The connection's staging buffer into which frames are packed (default: the library's default).",
                    "Several sizes (comma list) make each transport and size a contender of the throughput cases."})
    List<Integer> staging;

    @Option(names = "--sections", paramLabel = "NAME,...", split = ",", defaultValue = "throughput,rtt,idle,sessions",
            description = "Which sections to run: throughput, rtt, idle, sessions (default: all).")
    List<String> sections;

    @Option(names = "--idle-streams", paramLabel = "N", defaultValue = "10000",
            description = "Idle streams for the heap-per-stream section (default: ${DEFAULT-VALUE}).")
    int idleStreams;

    @Option(names = "--sessions", paramLabel = "N", defaultValue = "1000",
            description = "Session pairs on one NIO loop (default: ${DEFAULT-VALUE}).")
    int sessions;

    @Option(names = "--peer", paramLabel = "HOST:PORT",
            description = "Benchmark smux client throughput against this remote smux server, which must discard what it receives.")
    String peer;

    @Option(names = "--raw-peer", paramLabel = "HOST:PORT",
            description = "With --peer: a TCP server that discards what it receives, for the raw TCP baseline.")
    String rawPeer;

    @Option(names = "--json", description = "Print one JSON line with every figure and nothing else on standard output.")
    boolean json;

    @Option(names = "--virtual-threads",
            description = "Run the bench's readers and writers (raw TCP and smux alike) on virtual threads; needs Java 21 or later.")
    boolean virtualThreads;

    @Override
    public Integer call() {
        Flags.positive(spec, "--duration", duration, 3600, " seconds");
        for (int n : streams) {
            Flags.range(spec, "--streams", n, 1, 100_000, " (each count)");
        }
        Flags.range(spec, "--idle-streams", idleStreams, 1, 10_000_000, "");
        Flags.range(spec, "--sessions", sessions, 1, 100_000, "");
        if (virtualThreads && !Bench.useVirtualThreads()) {
            throw Flags.bad(spec, "--virtual-threads", "needs Java 21 or later (this is Java " + Runtime.version().feature() + ")");
        }
        if (rawPeer != null && peer == null) {
            throw Flags.bad(spec, "--raw-peer", "needs --peer (the raw baseline is only for a remote run)");
        }
        Set<Section> chosen = new LinkedHashSet<>();
        for (String s : sections) {
            try {
                chosen.add(Section.parse(s.trim()));
            } catch (IllegalArgumentException e) {
                throw Flags.bad(spec, "--sections", e.getMessage());
            }
        }
        String asked = session.transport;
        session.transport = null; // a comma list here; checked by transports()
        SmuxConfig.Builder base = session.builder(spec, false);
        session.transport = asked;
        List<Integer> stagings = List.of();
        if (staging != null) {
            for (int size : staging) {
                Flags.range(spec, "--staging", size, SmuxConfig.MIN_STAGING_BUFFER, 64 << 20, " bytes");
                if (size < session.frame + SmuxConfig.HEADER_SIZE) {
                    throw Flags.bad(spec, "--staging", "must hold one whole frame (--frame + 8 = " + (session.frame + SmuxConfig.HEADER_SIZE)
                            + " bytes), got " + size);
                }
            }
            if (staging.size() == 1) {
                base.stagingBufferSize(staging.get(0));
            } else {
                stagings = List.copyOf(new LinkedHashSet<>(staging));
            }
        }
        Plan plan = new Plan(base.build(), transports(), stagings, streams, duration, chosen, idleStreams, sessions,
                peer == null ? null : Flags.address(spec, "--peer", peer), rawPeer == null ? null : Flags.address(spec, "--raw-peer", rawPeer));
        // with --json the readable report is silent, save for a leaked thread on standard error
        PrintStream readable = json ? new PrintStream(OutputStream.nullOutputStream()) : System.out;
        Results results = new Bench(plan, new TextReport(readable, System.err)).run();
        if (json) {
            System.out.println(JsonReport.line(results));
            System.out.flush();
        }
        return results.ok() ? 0 : ExitCode.FAILED;
    }

    private List<String> transports() {
        List<String> available = Smux.transports();
        if (session.transport == null) {
            List<String> all = new ArrayList<>();
            for (String t : List.of("socket", "nio")) {
                if (available.contains(t)) {
                    all.add(t);
                }
            }
            for (String t : available) {
                if (!all.contains(t)) {
                    all.add(t);
                }
            }
            return all;
        }
        List<String> asked = new ArrayList<>();
        for (String t : session.transport.split(",")) {
            String name = t.trim().toLowerCase(Locale.ROOT);
            if (!available.contains(name)) {
                throw Flags.bad(spec, "--transport", "no transport named '" + name + "'; available: " + String.join(", ", available));
            }
            if (!asked.contains(name)) {
                asked.add(name);
            }
        }
        return asked;
    }
}
