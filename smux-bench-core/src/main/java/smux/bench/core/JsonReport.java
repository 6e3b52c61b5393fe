package smux.bench.core;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import smux.api.SmuxConfig;

/**
 * The whole run as one line of JSON, for scripts: every figure, the verdicts, whether the run was
 * clean. Written by jackson-jr from ordered maps. A figure that was not measured (NaN) is null;
 * others are rounded to four decimals, and whole numbers are written as such, which keeps the
 * line short and stable between runs.
 */
public final class JsonReport {
    private static final JSON WRITER = JSON.std.with(JSON.Feature.WRITE_NULL_PROPERTIES);

    private JsonReport() {
    }

    /** @return the report, one line without its line break */
    public static String line(Results r) {
        try {
            return WRITER.asString(fields(
                    "bench", "smux",
                    "config", config(r),
                    "machine", machine(r),
                    "throughput", map(r.throughput(), JsonReport::throughput),
                    "rtt", map(r.roundTrips(), JsonReport::roundTrip),
                    "idle_streams", map(r.idleStreams(), JsonReport::idle),
                    "nio_sessions", nio(r),
                    "targets", targets(r),
                    "leaked_threads", r.leaks(),
                    "ok", r.ok(),
                    "elapsed_s", figure(r.elapsedSeconds())));
        } catch (IOException e) {
            throw new UncheckedIOException("writing the JSON report", e); // into a string: not expected
        }
    }

    private static Map<String, Object> config(Results r) {
        Plan p = r.plan();
        SmuxConfig c = p.config();
        return fields(
                "version", c.version(),
                "window", c.streamWindow(),
                "window_tuned", c.windowTuned(),
                "initial_window", c.initialStreamWindow(),
                "frame", c.maxFrameSize(),
                "staging", c.stagingBufferSize(),
                "stagings_compared", p.stagings(),
                "keepalive_s", c.keepAliveEnabled() ? c.keepAliveInterval().toSeconds() : 0,
                "duration_s", figure(p.seconds()),
                "ramp_s", figure(r.schedule().ramp().toMillis() / 1000.0),
                "rounds", r.schedule().rounds(),
                "write_size", Load.WRITE_SIZE,
                "streams", p.streams(),
                "transports", p.transports(),
                "peer", p.peer() == null ? null : p.peer().toString(),
                "raw_peer", p.rawPeer() == null ? null : p.rawPeer().toString());
    }

    private static Map<String, Object> machine(Results r) {
        Machine m = r.machine();
        return fields(
                "cpus", m.cpus(),
                "java", m.java(),
                "vm", m.vm(),
                "os", m.os(),
                "gc", m.gc(),
                "max_heap", m.maxHeap(),
                "load_average_before", figure(m.loadAverage()),
                "other_processes_cpus", map(r.otherLoad(), b -> fields("case", b.label(), "cpus", figure(b.cpus()))),
                "fd_limit", m.fdLimit());
    }

    private static Map<String, Object> throughput(ThroughputRow t) {
        return fields(
                "streams", t.streams(),
                "transport", t.transport(),
                "mb_per_s", figure(t.mbps()),
                "ratio", figure(t.ratio()),
                "ratio_min", figure(t.ratioMin()),
                "ratio_max", figure(t.ratioMax()),
                "mb_per_cpu_s", figure(t.mbPerCpuSecond()),
                "cpu_ratio", figure(t.cpuRatio()),
                "error", t.error());
    }

    private static Map<String, Object> roundTrip(RoundTripRow t) {
        return fields(
                "transport", t.transport(),
                "count", t.count(),
                "p50_us", figure(t.p50Micros()),
                "p99_us", figure(t.p99Micros()),
                "mean_us", figure(t.meanMicros()),
                "p50_ratio", figure(t.p50Ratio()),
                "p99_ratio", figure(t.p99Ratio()),
                "error", t.error());
    }

    private static Map<String, Object> idle(IdleStreams.Result t) {
        return fields(
                "transport", t.transport(),
                "streams", t.streams(),
                "bytes_per_stream", figure(t.bytesPerStream()),
                "bytes_per_stream_end", figure(t.bytesPerStreamEnd()),
                "heap_before", t.heapBefore(),
                "heap_after", t.heapAfter(),
                "error", t.error());
    }

    private static Map<String, Object> nio(Results r) {
        NioSessions.Result n = r.nioSessions();
        if (n == null) {
            return r.nioError() == null ? null : fields("error", r.nioError());
        }
        return fields(
                "asked", n.asked(),
                "pairs", n.pairs(),
                "sessions", 2 * n.pairs(),
                "worked", n.worked(),
                "smux_threads", n.smuxThreads().size(),
                "thread_names", n.smuxThreads(),
                "bytes_per_session", figure(n.bytesPerSession()),
                "bytes_per_session_opened", figure(n.bytesPerSessionOpened()),
                "heap_before", n.heapBefore(),
                "heap_opened", n.heapOpened(),
                "heap_after", n.heapAfter(),
                "fd_limit", n.fdLimit(),
                "error", n.error());
    }

    /** Each target's verdict per transport; the NIO loop's is one verdict, null if it did not run. */
    private static Map<String, Object> targets(Results r) {
        List<Targets.Verdict> verdicts = Targets.judge(r);
        Map<String, Object> targets = new LinkedHashMap<>();
        for (Targets.Target t : Targets.Target.values()) {
            Map<String, Object> perTransport = new LinkedHashMap<>();
            Boolean single = null;
            for (Targets.Verdict v : verdicts) {
                if (v.target() == t) {
                    perTransport.put(v.transport(), v.met());
                    single = v.met();
                }
            }
            targets.put(t.key, t == Targets.Target.NIO_SESSIONS ? single : perTransport);
        }
        return targets;
    }

    // ------------------------------------------------------------------ helpers

    /** @return an ordered object from name, value, name, value... */
    private static Map<String, Object> fields(Object... namesAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            m.put((String) namesAndValues[i], namesAndValues[i + 1]);
        }
        return m;
    }

    private static <T> List<Object> map(List<T> items, Function<T, Object> each) {
        List<Object> list = new ArrayList<>(items.size());
        for (T item : items) {
            list.add(each.apply(item));
        }
        return list;
    }

    /** @return null for a figure not measured; a whole number as a long; else rounded to four decimals */
    static Number figure(double d) {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            return null;
        }
        if (d == Math.rint(d) && Math.abs(d) < 1e15) {
            return (long) d;
        }
        return Math.abs(d) < 1e14 ? Math.round(d * 1e4) / 1e4 : d;
    }
}
