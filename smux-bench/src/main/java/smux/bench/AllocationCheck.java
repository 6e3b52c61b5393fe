package smux.bench;

import java.lang.management.ManagementFactory;

/**
 * An exact cross-check of {@code -prof gc} for {@link EngineThroughput}: runs the same operation
 * on this thread, first to warm up (JIT), then for a measured stretch, and prints the bytes this
 * thread allocated per frame (JMH's {@code gc.alloc.rate.norm} includes a small floor from the
 * harness itself). Besides the benchmark's cases it runs writes larger than the window, so the
 * window-blocked path (the sender stops until the UPD comes back) is covered too.
 *
 * <pre>java -cp smux-bench/target/benchmarks.jar smux.bench.AllocationCheck</pre>
 */
public final class AllocationCheck {
    private AllocationCheck() {
    }

    public static void main(String[] args) throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int[][] cases = {{1, 128 * 1024}, {100, 128 * 1024}, {1, 4 * 1024 * 1024}, {10, 1024 * 1024}};
        boolean clean = true;
        for (int[] c : cases) {
            EngineThroughput bench = new EngineThroughput();
            bench.streams = c[0];
            bench.writeSize = c[1];
            bench.directStaging = true;
            bench.setUp();
            Transferred counters = new Transferred();
            run(bench, counters, 1_500_000_000L); // warm-up: let C2 compile the pump
            counters.reset();
            long before = threads.getCurrentThreadAllocatedBytes();
            long ops = run(bench, counters, 2_000_000_000L);
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            double perFrame = (double) allocated / counters.frames;
            System.out.printf("streams=%d writeSize=%d: %d ops, %d frames, %d bytes allocated, %.4f B/frame, %.0f MB/s%n",
                    c[0], c[1], ops, counters.frames, allocated, perFrame, counters.bytes / 2.0 / 1e6);
            clean &= perFrame < 0.01;
        }
        System.out.println(clean ? "steady state allocates ~0 B/frame" : "ALLOCATION ON THE HOT PATH");
        if (!clean) {
            System.exit(1);
        }
    }

    private static long run(EngineThroughput bench, Transferred counters, long nanos) throws Exception {
        long end = System.nanoTime() + nanos;
        long ops = 0;
        while (System.nanoTime() - end < 0) {
            bench.transfer(counters);
            ops++;
        }
        return ops;
    }
}
