package smux.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code smux bench} end to end: the packaged command in its own JVM, as a user runs it, with
 * short cases. Checks that the JSON line carries every section's figures, not their values
 * (this machine's speed is not under test).
 */
@org.junit.jupiter.api.parallel.Isolated("it measures throughput: other tests' processes would skew it")
class BenchIT {
    /** Each blocking party on a thread of its own: the common pool may queue it behind another. */
    private static final Executor OWN_THREAD = task -> {
        Thread t = new Thread(task, "test-drain");
        t.setDaemon(true);
        t.start();
    };


    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void jsonReportHasEveryFigure() throws Exception {
        Run run = smux("bench", "--json", "--duration", "1", "--streams", "1,10");
        assertEquals(0, run.exit, () -> "exit code; stderr:\n" + run.err);
        String[] lines = run.out.strip().split("\n");
        assertEquals(1, lines.length, () -> "--json prints exactly one line on stdout, got:\n" + run.out);
        Map<String, Object> report = obj(new JsonReader(lines[0]).value());

        assertEquals(Boolean.TRUE, report.get("ok"), () -> "ok; the report: " + lines[0]);
        assertTrue(list(report.get("leaked_threads")).isEmpty(), "no thread outlives its case");
        Map<String, Object> config = obj(report.get("config"));
        assertEquals(2.0, num(config.get("version")));
        assertEquals(List.of(1.0, 10.0), list(config.get("streams")));
        List<Object> transports = list(config.get("transports"));
        assertTrue(transports.containsAll(List.of("socket", "nio")), "both transports ran: " + transports);

        List<Object> throughput = list(report.get("throughput"));
        assertEquals(2 * (1 + transports.size()), throughput.size(), "raw TCP plus each transport, for 1 and 10 streams");
        for (Object o : throughput) {
            Map<String, Object> c = obj(o);
            assertNull(c.get("error"), () -> "case failed: " + c);
            assertTrue(num(c.get("mb_per_s")) > 0, () -> "moved data: " + c);
            if (c.get("transport").equals("raw")) {
                assertNull(c.get("ratio"));
            } else {
                assertTrue(num(c.get("ratio")) > 0, () -> "ratio to raw TCP: " + c);
            }
        }

        List<Object> rtt = list(report.get("rtt"));
        assertEquals(1 + transports.size(), rtt.size());
        assertEquals("raw", obj(rtt.get(0)).get("transport"));
        for (Object o : rtt) {
            Map<String, Object> r = obj(o);
            assertNull(r.get("error"), () -> "round trip failed: " + r);
            assertTrue(num(r.get("count")) > 0 && num(r.get("p50_us")) > 0 && num(r.get("p99_us")) >= num(r.get("p50_us")),
                    () -> "percentiles: " + r);
            if (!r.get("transport").equals("raw")) {
                assertTrue(num(r.get("p50_ratio")) > 0 && num(r.get("p99_ratio")) > 0, () -> "ratios: " + r);
            }
        }

        List<Object> idle = list(report.get("idle_streams"));
        assertEquals(transports.size(), idle.size());
        for (Object o : idle) {
            Map<String, Object> r = obj(o);
            assertNull(r.get("error"), () -> "idle streams failed: " + r);
            assertEquals(10_000.0, num(r.get("streams")));
            assertTrue(num(r.get("bytes_per_stream")) > 0, () -> "heap per stream: " + r);
        }

        Map<String, Object> nio = obj(report.get("nio_sessions"));
        assertNull(nio.get("error"), () -> "nio sessions failed: " + nio);
        assertEquals(num(nio.get("pairs")), num(nio.get("worked")), "every session pair moved its data");
        assertEquals(1.0, num(nio.get("smux_threads")), () -> "one loop thread: " + nio.get("thread_names"));
        assertTrue(num(nio.get("bytes_per_session")) > 0);

        Map<String, Object> targets = obj(report.get("targets"));
        for (String k : List.of("one_stream_ratio_at_least_0_85", "hundred_streams_ratio_at_least_0_70",
                "thousand_streams_ratio_at_least_0_60", "rtt_p50_at_most_1_5x", "rtt_p99_at_most_1_5x",
                "idle_stream_heap_at_most_2048_bytes", "one_nio_loop_holds_1000_sessions")) {
            assertTrue(targets.containsKey(k), "target " + k + " is reported");
        }
        assertNotNull(obj(targets.get("one_stream_ratio_at_least_0_85")).get("socket"), "1 stream was measured");
        assertNotNull(obj(targets.get("rtt_p50_at_most_1_5x")).get("socket"), "the round trip was measured");
        assertNull(obj(targets.get("thousand_streams_ratio_at_least_0_60")).get("socket"), "1,000 streams was not asked for");
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void badOptionsFailWithOneLine() throws Exception {
        Run run = smux("bench", "--sections", "nope");
        assertNotEquals(0, run.exit);
        assertTrue(run.err.contains("no section 'nope'"), () -> "stderr: " + run.err);
        assertFalse(run.out.contains("throughput"), "nothing ran");

        Run orphan = smux("bench", "--raw-peer", "127.0.0.1:1");
        assertNotEquals(0, orphan.exit);
        assertTrue(orphan.err.contains("--raw-peer: needs --peer"), () -> "stderr: " + orphan.err);
        assertEquals(2, orphan.exit, "a bad option exits 2");
    }

    // ------------------------------------------------------------------ running the command

    private record Run(int exit, String out, String err) {
    }

    private static Run smux(String... args) throws Exception {
        String jar = required("smux.cli.jar");
        String lib = required("smux.cli.lib");
        assertTrue(Files.isRegularFile(Path.of(jar)), "the CLI jar is built: " + jar);
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(jar + java.io.File.pathSeparator + lib + java.io.File.separator + "*");
        cmd.add("smux.cli.Main");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().close();
        CompletableFuture<String> out = drain(p.getInputStream());
        CompletableFuture<String> err = drain(p.getErrorStream());
        try {
            int exit = p.waitFor();
            return new Run(exit, out.get(30, TimeUnit.SECONDS), err.get(30, TimeUnit.SECONDS));
        } finally {
            p.destroyForcibly();
        }
    }

    private static CompletableFuture<String> drain(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            try (in) {
                in.transferTo(b);
            } catch (IOException e) {
                // the process ended
            }
            return b.toString(StandardCharsets.UTF_8);
        }, OWN_THREAD);
    }

    private static String required(String property) {
        String v = System.getProperty(property);
        assertNotNull(v, property + " is set by the failsafe configuration");
        return v;
    }

    // ------------------------------------------------------------------ a small JSON reader

    @SuppressWarnings("unchecked")
    private static Map<String, Object> obj(Object o) {
        assertTrue(o instanceof Map, () -> "expected an object, got " + o);
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) {
        assertTrue(o instanceof List, () -> "expected an array, got " + o);
        return (List<Object>) o;
    }

    private static double num(Object o) {
        assertTrue(o instanceof Double, () -> "expected a number, got " + o);
        return (Double) o;
    }

    /** Reads the JSON the bench writes: objects, arrays, strings, numbers (as Double), booleans, null. */
    private static final class JsonReader {
        private final String s;
        private int i;

        JsonReader(String s) {
            this.s = s;
        }

        Object value() {
            Object v = any();
            space();
            if (i != s.length()) {
                throw new IllegalArgumentException("trailing text at " + i + ": " + s.substring(i));
            }
            return v;
        }

        private Object any() {
            space();
            char c = s.charAt(i);
            switch (c) {
                case '{': return object();
                case '[': return array();
                case '"': return string();
                case 't': return literal("true", Boolean.TRUE);
                case 'f': return literal("false", Boolean.FALSE);
                case 'n': return literal("null", null);
                default: return number();
            }
        }

        private Map<String, Object> object() {
            Map<String, Object> m = new LinkedHashMap<>();
            i++;
            space();
            if (s.charAt(i) == '}') {
                i++;
                return m;
            }
            while (true) {
                space();
                String k = string();
                space();
                expect(':');
                m.put(k, any());
                space();
                if (s.charAt(i) == ',') {
                    i++;
                } else {
                    expect('}');
                    return m;
                }
            }
        }

        private List<Object> array() {
            List<Object> l = new ArrayList<>();
            i++;
            space();
            if (s.charAt(i) == ']') {
                i++;
                return l;
            }
            while (true) {
                l.add(any());
                space();
                if (s.charAt(i) == ',') {
                    i++;
                } else {
                    expect(']');
                    return l;
                }
            }
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (s.charAt(i) != '"') {
                char c = s.charAt(i++);
                if (c == '\\') {
                    char e = s.charAt(i++);
                    switch (e) {
                        case 'n': b.append('\n'); break;
                        case 'r': b.append('\r'); break;
                        case 't': b.append('\t'); break;
                        case 'u': b.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
                        default: b.append(e);
                    }
                } else {
                    b.append(c);
                }
            }
            i++;
            return b.toString();
        }

        private Double number() {
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            if (start == i) {
                throw new IllegalArgumentException("unexpected '" + s.charAt(i) + "' at " + i);
            }
            return Double.parseDouble(s.substring(start, i));
        }

        private Object literal(String word, Object v) {
            if (!s.startsWith(word, i)) {
                throw new IllegalArgumentException("expected " + word + " at " + i);
            }
            i += word.length();
            return v;
        }

        private void expect(char c) {
            if (s.charAt(i) != c) {
                throw new IllegalArgumentException("expected '" + c + "' at " + i + ", got '" + s.charAt(i) + "'");
            }
            i++;
        }

        private void space() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }
    }
}
