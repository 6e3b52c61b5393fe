package smux.bench.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * How busy the rest of the machine was while a case ran: the CPU time that other processes used,
 * in CPUs (1.0 = one core busy all the time). The load average cannot say it: it counts this
 * bench's own runnable threads, and the 1,000-stream case alone has a thousand of them, so the
 * bench would blame the machine for its own load.
 *
 * <p>Measured on Linux from {@code /proc/stat} (the busy and total time of all CPUs, in ticks)
 * and this process's own CPU time: the machine's busy CPUs over the interval, less this process's.
 * Elsewhere there is no reading, and the report says so.
 */
public final class OtherLoad {
    private static final Path STAT = Path.of("/proc/stat");

    /**
     * How busy other processes kept the machine during one measured case.
     *
     * @param label the case
     * @param cpus the CPUs they used on average, NaN if unknown
     */
    public record During(String label, double cpus) {
    }

    /** One reading; {@link #since} compares two. */
    record Sample(long busyTicks, long allTicks, int cpus, long ownCpuNanos, long nanos) {
        /**
         * @param earlier the reading at the start of the interval
         * @return the CPUs other processes used on average since {@code earlier}, or NaN if unknown
         */
        double since(Sample earlier) {
            long all = allTicks - earlier.allTicks;
            long wall = nanos - earlier.nanos;
            if (all <= 0 || wall <= 0 || ownCpuNanos < 0) {
                return Double.NaN;
            }
            double machine = (double) (busyTicks - earlier.busyTicks) / all * cpus;
            double own = (double) (ownCpuNanos - earlier.ownCpuNanos) / wall;
            return Math.max(0, machine - own); // the two clocks differ by a tick or so: never below zero
        }
    }

    private OtherLoad() {
    }

    /** @return a reading now, or null where {@code /proc/stat} cannot be read */
    static Sample sample() {
        try {
            List<String> lines = Files.readAllLines(STAT);
            int cpus = 0;
            for (String l : lines) {
                if (l.startsWith("cpu") && l.length() > 3 && Character.isDigit(l.charAt(3))) {
                    cpus++;
                }
            }
            String[] f = lines.get(0).trim().split("\\s+");
            // cpu user nice system idle iowait irq softirq steal ...: guest time is counted in user already
            long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
            long busy = 0;
            for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
                busy += i < f.length ? Long.parseLong(f[i]) : 0;
            }
            return new Sample(busy, busy + idle, cpus, Heap.processCpuNanos(), System.nanoTime());
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * @param earlier a reading from {@link #sample()}, or null
     * @return the CPUs other processes used since {@code earlier}, NaN if unknown
     */
    static double since(Sample earlier) {
        Sample now = sample();
        return earlier == null || now == null ? Double.NaN : now.since(earlier);
    }
}
