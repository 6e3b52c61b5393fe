package smux.bench.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The JSON line keeps the names and shapes that scripts (and BenchIT) read. */
class JsonReportTest {

    private static Map<String, Object> parse(String line) throws Exception {
        assertFalse(line.contains("\n"), "one line");
        return JSON.std.mapFrom(line);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> obj(Object o) {
        assertTrue(o instanceof Map, () -> "an object: " + o);
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) {
        assertTrue(o instanceof List, () -> "an array: " + o);
        return (List<Object>) o;
    }

    private static Results sample(String error) {
        Plan plan = Runs.plan("socket", "nio");
        return Runs.results(plan,
                List.of(Runs.raw(1, 1234.56789), Runs.row(1, "socket", 1000, 0.81), Runs.row(1, "nio", 1100, 0.891)),
                List.of(Runs.rtt("raw", Double.NaN, Double.NaN, null), Runs.rtt("socket", 1.2, 1.4, error)),
                List.of(Runs.idle("socket", 660)), null, List.of(new OtherLoad.During("1 stream", Double.NaN)), List.of());
    }

    @Test
    void everySectionKeepsItsNamesInOrder() throws Exception {
        Map<String, Object> r = parse(JsonReport.line(sample(null)));
        assertEquals(List.of("bench", "config", "machine", "throughput", "rtt", "idle_streams", "nio_sessions", "targets",
                "leaked_threads", "ok", "elapsed_s"), new ArrayList<>(r.keySet()));
        assertEquals("smux", r.get("bench"));
        assertEquals(List.of("version", "window", "window_tuned", "initial_window", "frame", "staging", "stagings_compared",
                "keepalive_s", "duration_s", "ramp_s", "rounds", "write_size", "streams", "transports", "peer", "raw_peer"),
                new ArrayList<>(obj(r.get("config")).keySet()));
        assertEquals(List.of("cpus", "java", "vm", "os", "gc", "max_heap", "load_average_before", "other_processes_cpus", "fd_limit"),
                new ArrayList<>(obj(r.get("machine")).keySet()));
        assertEquals(List.of("streams", "transport", "mb_per_s", "ratio", "ratio_min", "ratio_max", "mb_per_cpu_s", "cpu_ratio", "error"),
                new ArrayList<>(obj(list(r.get("throughput")).get(0)).keySet()));
        assertEquals(List.of("transport", "count", "p50_us", "p99_us", "mean_us", "p50_ratio", "p99_ratio", "error"),
                new ArrayList<>(obj(list(r.get("rtt")).get(0)).keySet()));
        assertEquals(List.of("transport", "streams", "bytes_per_stream", "bytes_per_stream_end", "heap_before", "heap_after", "error"),
                new ArrayList<>(obj(list(r.get("idle_streams")).get(0)).keySet()));
        assertEquals(List.of("one_stream_ratio_at_least_0_85", "hundred_streams_ratio_at_least_0_70",
                "thousand_streams_ratio_at_least_0_60", "rtt_p50_at_most_1_5x", "rtt_p99_at_most_1_5x",
                "idle_stream_heap_at_most_2048_bytes", "one_nio_loop_holds_1000_sessions"), new ArrayList<>(obj(r.get("targets")).keySet()));
        assertEquals(Boolean.TRUE, r.get("ok"));
    }

    @Test
    void figuresNotMeasuredAreNullAndOthersAreRounded() throws Exception {
        String line = JsonReport.line(sample(null));
        Map<String, Object> r = parse(line);
        Map<String, Object> raw = obj(list(r.get("throughput")).get(0));
        assertTrue(raw.containsKey("ratio") && raw.get("ratio") == null, () -> "raw TCP has no ratio to itself, written as null: " + raw);
        assertEquals(1234.5679, ((Number) raw.get("mb_per_s")).doubleValue(), 0.0, "four decimals");
        assertTrue(line.contains("\"duration_s\":5,"), () -> "a whole number is written as one: " + line);
        assertNull(obj(obj(r.get("machine")).get("other_processes_cpus") instanceof List<?> l ? l.get(0) : null).get("cpus"),
                "unknown CPU use is null");
        Map<String, Object> targets = obj(r.get("targets"));
        assertEquals(Boolean.FALSE, obj(targets.get("one_stream_ratio_at_least_0_85")).get("socket"));
        assertEquals(Boolean.TRUE, obj(targets.get("one_stream_ratio_at_least_0_85")).get("nio"));
        Map<String, Object> hundred = obj(targets.get("hundred_streams_ratio_at_least_0_70"));
        assertTrue(hundred.containsKey("socket") && hundred.get("socket") == null, "not measured is null, not left out");
        assertTrue(targets.containsKey("one_nio_loop_holds_1000_sessions") && targets.get("one_nio_loop_holds_1000_sessions") == null);
        assertTrue(r.containsKey("nio_sessions") && r.get("nio_sessions") == null, "the NIO section did not run");
    }

    @Test
    void anErrorIsCarriedWhole() throws Exception {
        String error = "java.io.IOException: \"quoted\"\nsecond line\t\u0001";
        Map<String, Object> r = parse(JsonReport.line(sample(error)));
        assertEquals(error, obj(list(r.get("rtt")).get(1)).get("error"));
        assertEquals(Boolean.FALSE, r.get("ok"), "a failed case fails the run");
    }
}
