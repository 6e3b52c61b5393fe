package smux.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The ratios of the README measured so that a shared machine's changing load cancels out: the
 * engine, the copy baseline and loopback TCP run the very operations of their JMH benchmarks in
 * short alternating slices (after a JIT warm-up), each round in a shuffled order, and every ratio
 * is taken between slices of the same round, a second or so apart. The median over the rounds is
 * the figure; the quartiles show the spread. JMH's per-benchmark scores, taken minutes apart,
 * swing with other load; these ratios do much less. Rates are payload bytes per second.
 *
 * <p>Two kinds of rate are printed. <b>Wall</b>: bytes over elapsed time, what JMH reports; the
 * ratio to TCP depends on how busy the machine is, because TCP needs two threads (writer and
 * reader) to be scheduled at once and suffers more from other load than the one-thread engine.
 * <b>CPU</b>: bytes over the CPU time the measured threads actually got (user + system, from
 * {@link ThreadMXBean}), which estimates the rate on idle cores. For TCP it is bytes over the CPU
 * time of the busier of its two threads: the rate it would reach if writer and reader overlapped
 * perfectly on two free cores, i.e. TCP's best case; the engine pair gets one core.
 *
 * <pre>java -cp smux-bench/target/benchmarks.jar smux.bench.InterleavedRatios [rounds] [sliceMillis]</pre>
 */
public final class InterleavedRatios {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private InterleavedRatios() {
    }

    /** One contender: runs its benchmark operation and counts bytes. */
    private interface Op {
        long run(Transferred t) throws Exception;
    }

    /** A benchmark operation and, for TCP, the other thread that works for it. */
    private record Contender(String name, Op op, Thread helper) { }

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
            all.add(new Contender("engine/" + streams, e::transfer, null));
            CopyBaseline c = new CopyBaseline();
            c.streams = streams;
            c.writeSize = Sizes.WRITE_SIZE;
            c.directStaging = true;
            c.setUp();
            all.add(new Contender("copy/" + streams, c::copy, null));
        }
        List<LoopbackTcp> sockets = new ArrayList<>();
        for (int sources : new int[] {1, 100}) {
            LoopbackTcp tcp = new LoopbackTcp();
            tcp.sources = sources;
            tcp.setUp();
            sockets.add(tcp);
            all.add(new Contender("tcp/" + sources, tcp::write, tcp.drain));
        }
        try {
            for (Contender c : all) {
                measure(c, 3_000_000_000L); // warm-up
            }
            int n = all.size();
            double[][] wall = new double[rounds][n];
            double[][] cpu = new double[rounds][n];
            Random random = new Random(42);
            int[] order = new int[n];
            Arrays.setAll(order, i -> i);
            for (int r = 0; r < rounds; r++) {
                shuffle(order, random); // no contender always follows the same one
                for (int i : order) {
                    double[] m = measure(all.get(i), slice);
                    wall[r][i] = m[0];
                    cpu[r][i] = m[1];
                }
            }
            for (int i = 0; i < n; i++) {
                double[] w = column(wall, i);
                double[] c = column(cpu, i);
                System.out.printf(Locale.ROOT, "%-11s wall median %6.0f best %6.0f MB/s   cpu median %6.0f MB/s%n",
                        all.get(i).name(), median(w) / 1e6, Arrays.stream(w).max().orElse(0) / 1e6, median(c) / 1e6);
            }
            for (int streams : new int[] {1, 100}) {
                int e = indexOf(all, "engine/" + streams);
                int c = indexOf(all, "copy/" + streams);
                int t = indexOf(all, "tcp/" + streams);
                report("engine/copy " + streams, ratios(wall, e, c), ratios(cpu, e, c));
                report("engine/tcp  " + streams, ratios(wall, e, t), ratios(cpu, e, t));
                report("copy/tcp    " + streams, ratios(wall, c, t), ratios(cpu, c, t));
            }
        } finally {
            for (LoopbackTcp tcp : sockets) {
                tcp.tearDown();
            }
        }
    }

    private static void shuffle(int[] a, Random random) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int x = a[i];
            a[i] = a[j];
            a[j] = x;
        }
    }

    /** @return {wall rate, CPU rate} in bytes per second */
    private static double[] measure(Contender c, long nanos) throws Exception {
        Transferred t = new Transferred();
        long helperId = c.helper() == null ? -1 : c.helper().getId();
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        long helper0 = helperId < 0 ? 0 : THREADS.getThreadCpuTime(helperId);
        long start = System.nanoTime();
        long end = start + nanos;
        long now;
        do {
            c.op().run(t);
            now = System.nanoTime();
        } while (now - end < 0);
        long cpu = THREADS.getCurrentThreadCpuTime() - cpu0;
        if (helperId >= 0) {
            cpu = Math.max(cpu, THREADS.getThreadCpuTime(helperId) - helper0);
        }
        return new double[] {t.bytes * 1e9 / (now - start), t.bytes * 1e9 / cpu};
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

    private static void report(String what, double[] wall, double[] cpu) {
        double[] w = wall.clone();
        double[] c = cpu.clone();
        Arrays.sort(w);
        Arrays.sort(c);
        System.out.printf(Locale.ROOT, "%-15s wall median %.2f (quartiles %.2f .. %.2f)   cpu median %.2f (quartiles %.2f .. %.2f)%n",
                what, median(w), w[w.length / 4], w[(3 * w.length) / 4], median(c), c[c.length / 4], c[(3 * c.length) / 4]);
    }

    private static double median(double[] sorted) {
        double[] s = sorted.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }
}
