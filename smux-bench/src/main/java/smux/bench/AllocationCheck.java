package smux.bench;

import java.lang.management.ManagementFactory;

/**
 * An exact cross-check of {@code -prof gc} for {@link EngineThroughput}: runs the same operation
 * on this thread, first to warm up (JIT), then for a measured stretch, and prints the bytes this
 * thread allocated per frame (JMH's {@code gc.alloc.rate.norm} includes a small floor from the
 * harness itself). Besides the benchmark's cases it runs writes larger than the window, so the
 * window-blocked path (the sender stops until the UPD comes back) is covered too.
 *
 * <p>With the JIT, a single window sometimes shows a one-off of 56 to 312 bytes while a method
 * (of the harness or of {@code ThreadMXBean}) is being compiled; it never repeats. Run with
 * {@code -Xint} to see the engine's own code: the interpreter executes every {@code new} it meets
 * (no escape analysis), and it reports exactly 0 bytes in every window.
 *
 * <pre>java -cp smux-bench/target/benchmarks.jar smux.bench.AllocationCheck
 *java -Xint -cp smux-bench/target/benchmarks.jar smux.bench.AllocationCheck</pre>
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
            for (int w = 0; w < 30; w++) {
                run(bench, counters, 50_000_000L); // warm-up in short calls, so C2 compiles run() too
            }
            counters.reset();
            // Four windows, so a one-off (a JIT recompilation rematerializing objects) shows as
            // such and a per-frame cost shows in every window.
            long[] windows = new long[4];
            long ops = 0;
            threads.getCurrentThreadAllocatedBytes();
            for (int w = 0; w < windows.length; w++) {
                long before = threads.getCurrentThreadAllocatedBytes();
                ops += run(bench, counters, 500_000_000L);
                windows[w] = threads.getCurrentThreadAllocatedBytes() - before;
            }
            long allocated = java.util.Arrays.stream(windows).sum();
            double perFrame = (double) allocated / counters.frames;
            System.out.printf("streams=%d writeSize=%d: %d ops, %d frames, %d bytes allocated %s, %.4f B/frame, %.0f MB/s%n",
                    c[0], c[1], ops, counters.frames, allocated, java.util.Arrays.toString(windows), perFrame,
                    counters.bytes / 2.0 / 1e6);
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
