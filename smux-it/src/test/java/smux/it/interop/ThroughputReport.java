package smux.it.interop;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import smux.it.interop.CellRun.Figure;

/**
 * The table of {@link InteropThroughputBench}: per stream count and cell, the median over the rounds of
 * every figure, each cell's ratios to the Go v1.5.58 to Go v1.5.58 cell of the same stream count (same
 * run), and every refused or failed stream said in words, as markdown and as JSON.
 *
 * <p>A cell whose streams were not all served shows what happened ("refused 872 of 1000") ahead of its
 * figures and has no ratios: figures over the streams that were served are not comparable with a cell
 * that served them all.
 */
final class ThroughputReport {
    /** The cell every ratio is taken against. */
    static final String REFERENCE = "Go v1.5.58 -> Go v1.5.58";

    private final Map<String, Object> settings;
    private final List<String> names;
    private final List<Integer> streamCounts;
    private final Map<String, Cell> cells = new LinkedHashMap<>();

    /**
     * @param settings what the run was (rounds, bytes, JDKs, machine...), shown above the tables and in the JSON
     * @param names the cells, in table order
     * @param streamCounts one table each
     */
    ThroughputReport(Map<String, Object> settings, List<String> names, List<Integer> streamCounts) {
        this.settings = settings;
        this.names = List.copyOf(names);
        this.streamCounts = List.copyOf(streamCounts);
    }

    /** The results of cell {@code name} at {@code streams} streams, created empty on first use. */
    Cell cell(String name, int streams, long bytesPerStream) {
        return cells.computeIfAbsent(name + "|" + streams, k -> new Cell(name, streams, bytesPerStream));
    }

    /** What the rounds of one cell at one stream count came to. */
    static final class Cell {
        final String name;
        final int streams;
        final long bytesPerStream;
        final List<CellRun> runs = new ArrayList<>();
        /** Rounds that did not complete (a process that did not start, a deadline), with why. */
        final List<String> errors = new ArrayList<>();

        Cell(String name, int streams, long bytesPerStream) {
            this.name = name;
            this.streams = streams;
            this.bytesPerStream = bytesPerStream;
        }

        /** @return the median of {@code f} over the completed rounds, NaN if none completed */
        double median(Figure f) {
            return ThroughputReport.median(values(f));
        }

        private double[] values(Figure f) {
            return runs.stream().mapToDouble(f::of).sorted().toArray();
        }

        /** @return whether every round completed and served every stream */
        boolean clean() {
            return errors.isEmpty() && !runs.isEmpty() && runs.stream().allMatch(r -> r.streams().allServed());
        }

        /** @return what went wrong in the worst round ("refused 872 of 1000"), and rounds that failed; "" if nothing */
        String problems() {
            List<String> p = new ArrayList<>();
            runs.stream().filter(r -> !r.streams().allServed())
                    .max((a, b) -> Integer.compare(unserved(a), unserved(b)))
                    .ifPresent(r -> p.add(r.streams().problems()));
            if (!errors.isEmpty()) {
                p.add(errors.size() + " of " + (errors.size() + runs.size()) + " rounds failed: " + errors.get(0));
            }
            return String.join("; ", p);
        }

        private static int unserved(CellRun r) {
            CellRun.Streams s = r.streams();
            return Math.max(s.failed(), Math.max(s.refusedByServer(), s.shortAtReceiver()));
        }
    }

    /** @return the median of {@code sorted} (ascending), NaN if empty */
    static double median(double[] sorted) {
        int n = sorted.length;
        if (n == 0) {
            return Double.NaN;
        }
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /**
     * @return {@code cell}'s median of {@code f} over {@code reference}'s, or NaN when either did not serve every
     *     stream in every round (no ratio is taken of figures that are not alike)
     */
    static double ratio(Cell cell, Cell reference, Figure f) {
        if (cell == null || reference == null || !cell.clean() || !reference.clean()) {
            return Double.NaN;
        }
        return cell.median(f) / reference.median(f);
    }

    // ------------------------------------------------------------------ markdown

    String markdown() {
        StringBuilder sb = new StringBuilder("# Interop throughput: Go xtaci/smux and smux for Java\n\n");
        for (Map.Entry<String, Object> s : settings.entrySet()) {
            sb.append("- ").append(s.getKey()).append(": ").append(s.getValue()).append('\n');
        }
        for (int n : streamCounts) {
            Cell any = cells.values().stream().filter(c -> c.streams == n).findFirst().orElse(null);
            long perStream = any == null ? 0 : any.bytesPerStream;
            sb.append(String.format(Locale.ROOT, "%n## %s (%s each)%n%n", n == 1 ? "1 stream" : String.format(Locale.ROOT, "%,d streams", n),
                    mib(perStream)));
            sb.append("| cell | streams | MB/s | MB/s vs Go | receiver CPU-s/GB | receiver CPU vs Go | receiver cs/MB "
                    + "| sender CPU-s/GB | sender cs/MB |\n|---|---|---|---|---|---|---|---|---|\n");
            Cell reference = cells.get(REFERENCE + "|" + n);
            for (String name : names) {
                Cell c = cells.get(name + "|" + n);
                if (c == null) {
                    continue;
                }
                String problems = c.problems();
                sb.append("| ").append(name)
                        .append(" | ").append(problems.isEmpty() ? "all " + n : "**" + problems + "**")
                        .append(" | ").append(withRange(c, Figure.MB_PER_S, "%.0f"))
                        .append(" | ").append(fixed(ratio(c, reference, Figure.MB_PER_S), "%.2f"))
                        .append(" | ").append(withRange(c, Figure.RECEIVER_CPU_PER_GB, "%.2f"))
                        .append(" | ").append(fixed(ratio(c, reference, Figure.RECEIVER_CPU_PER_GB), "%.2f"))
                        .append(" | ").append(switches(c.median(Figure.RECEIVER_SWITCHES_PER_MB)))
                        .append(" | ").append(fixed(c.median(Figure.SENDER_CPU_PER_GB), "%.2f"))
                        .append(" | ").append(switches(c.median(Figure.SENDER_SWITCHES_PER_MB)))
                        .append(" |\n");
            }
        }
        sb.append("\nMedians of the rounds (min-max where there are several). MB = 10^6 bytes, GB = 10^9 bytes of payload. "
                + "CPU-s = user + system time of the whole process (/proc/<pid>/stat), cs = voluntary + involuntary context "
                + "switches of its threads (/proc/<pid>/task/*/status), both between a sample just before the go-ahead and one "
                + "just after the last stream was known received. \"vs Go\": this cell's median over that of " + REFERENCE
                + " at the same stream count in this run (receiver CPU: below 1 is cheaper than Go); none where streams "
                + "were refused or failed. See docs/INTEROP.md.\n");
        return sb.toString();
    }

    private static String withRange(Cell c, Figure f, String format) {
        double[] v = c.values(f);
        if (v.length == 0) {
            return "-";
        }
        String median = String.format(Locale.ROOT, format, median(v));
        return v.length == 1 ? median
                : median + " (" + String.format(Locale.ROOT, format, v[0]) + "-" + String.format(Locale.ROOT, format, v[v.length - 1]) + ")";
    }

    private static String fixed(double v, String format) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, format, v);
    }

    private static String switches(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, v >= 10 ? "%.0f" : "%.1f", v);
    }

    static String mib(long bytes) {
        if (bytes % (1 << 20) == 0) {
            return (bytes >> 20) + " MiB";
        }
        return bytes % 1024 == 0 ? (bytes >> 10) + " KiB" : bytes + " bytes";
    }

    // ------------------------------------------------------------------ JSON

    String json() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("settings", settings);
        root.put("reference", REFERENCE);
        List<Object> list = new ArrayList<>();
        for (int n : streamCounts) {
            Cell reference = cells.get(REFERENCE + "|" + n);
            for (String name : names) {
                Cell c = cells.get(name + "|" + n);
                if (c == null) {
                    continue;
                }
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("cell", name);
                m.put("streams", n);
                m.put("bytesPerStream", c.bytesPerStream);
                m.put("allServed", c.clean());
                m.put("problems", c.problems());
                Map<String, Object> medians = new LinkedHashMap<>();
                for (Figure f : Figure.values()) {
                    medians.put(jsonName(f), finite(c.median(f)));
                }
                m.put("median", medians);
                Map<String, Object> ratios = new LinkedHashMap<>();
                ratios.put(jsonName(Figure.MB_PER_S), finite(ratio(c, reference, Figure.MB_PER_S)));
                ratios.put(jsonName(Figure.RECEIVER_CPU_PER_GB), finite(ratio(c, reference, Figure.RECEIVER_CPU_PER_GB)));
                m.put("ratioToReference", ratios);
                List<Object> runs = new ArrayList<>();
                for (CellRun r : c.runs) {
                    runs.add(r.toJson());
                }
                m.put("runs", runs);
                m.put("errors", c.errors);
                list.add(m);
            }
        }
        root.put("cells", list);
        try {
            return JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT).asString(root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the bench's JSON", e);
        }
    }

    private static String jsonName(Figure f) {
        String[] words = f.name().toLowerCase(Locale.ROOT).split("_");
        StringBuilder sb = new StringBuilder(words[0]);
        Arrays.stream(words).skip(1).forEach(w -> sb.append(Character.toUpperCase(w.charAt(0))).append(w.substring(1)));
        return sb.toString();
    }

    /** JSON has no NaN: a figure that does not exist is null. */
    private static Double finite(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? null : v;
    }
}
