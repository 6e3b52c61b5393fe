package smux.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The ratios of the README measured so that a shared machine's changing load cancels out: the
 * engine, the copy baseline and loopback TCP run the very operations of their JMH benchmarks in
 * short alternating slices (after a JIT warm-up), each round in a rotated order, and every ratio
 * is taken between slices of the same round, seconds apart. The median over the rounds is the
 * figure; the quartiles show the spread. JMH's per-benchmark scores, taken minutes apart, swing
 * with other load; these ratios do much less. Rates are payload bytes per second.
 *
 * <pre>java -cp smux-bench/target/benchmarks.jar smux.bench.InterleavedRatios [rounds] [sliceMillis]</pre>
 */
public final class InterleavedRatios {
    private InterleavedRatios() {
    }

    /** One contender: runs its benchmark operation and counts bytes. */
    private interface Op {
        long run(Transferred t) throws Exception;
    }

    private record Contender(String name, Op op) { }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        long slice = (args.length > 1 ? Long.parseLong(args[1]) : 300) * 1_000_000L;
        List<Contender> all = new ArrayList<>();
        for (int streams : new int[] {1, 100}) {
            EngineThroughput e = new EngineThroughput();
            e.streams = streams;
            e.writeSize = Sizes.WRITE_SIZE;
            e.directStaging = true;
            e.setUp();
            all.add(new Contender("engine/" + streams, e::transfer));
            CopyBaseline c = new CopyBaseline();
            c.streams = streams;
            c.writeSize = Sizes.WRITE_SIZE;
            c.directStaging = true;
            c.setUp();
            all.add(new Contender("copy/" + streams, c::copy));
        }
        LoopbackTcp tcp = new LoopbackTcp();
        tcp.setUp();
        all.add(new Contender("tcp", tcp::write));
        try {
            for (Contender c : all) {
                measure(c, 3_000_000_000L); // warm-up
            }
            int n = all.size();
            double[][] rate = new double[rounds][n];
            for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < n; k++) {
                    int i = (k + r) % n;
                    rate[r][i] = measure(all.get(i), slice);
                }
            }
            for (int i = 0; i < n; i++) {
                double[] v = column(rate, i);
                System.out.printf(Locale.ROOT, "%-12s median %8.0f MB/s  best %8.0f MB/s%n", all.get(i).name(),
                        median(v) / 1e6, Arrays.stream(v).max().orElse(0) / 1e6);
            }
            int tcpIndex = n - 1;
            for (int streams : new int[] {1, 100}) {
                int e = indexOf(all, "engine/" + streams);
                int c = indexOf(all, "copy/" + streams);
                report("engine/copy " + streams, ratios(rate, e, c));
                report("engine/tcp  " + streams, ratios(rate, e, tcpIndex));
                report("copy/tcp    " + streams, ratios(rate, c, tcpIndex));
            }
        } finally {
            tcp.tearDown();
        }
    }

    private static double measure(Contender c, long nanos) throws Exception {
        Transferred t = new Transferred();
        long start = System.nanoTime();
        long end = start + nanos;
        long now;
        do {
            c.op().run(t);
            now = System.nanoTime();
        } while (now - end < 0);
        return t.bytes * 1e9 / (now - start);
    }

    private static double[] column(double[][] m, int i) {
        double[] v = new double[m.length];
        for (int r = 0; r < m.length; r++) {
            v[r] = m[r][i];
        }
        return v;
    }

    private static double[] ratios(double[][] m, int a, int b) {
        double[] v = new double[m.length];
        for (int r = 0; r < m.length; r++) {
            v[r] = m[r][a] / m[r][b];
        }
        return v;
    }

    private static int indexOf(List<Contender> all, String name) {
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).name().equals(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException(name);
    }

    private static void report(String what, double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        System.out.printf(Locale.ROOT, "%-16s median %.2f  (quartiles %.2f .. %.2f)%n", what, median(s),
                s[s.length / 4], s[(3 * s.length) / 4]);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }
}
