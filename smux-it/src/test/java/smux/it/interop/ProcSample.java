package smux.it.interop;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * What the kernel counted for one process at one moment, read from {@code /proc}: the CPU time of
 * the whole process ({@code utime + stime} of {@code /proc/<pid>/stat}, in clock ticks, which include
 * the threads that have already exited) and the context switches of its threads ({@code
 * voluntary_ctxt_switches + nonvoluntary_ctxt_switches} summed over {@code /proc/<pid>/task/<tid>/status}).
 *
 * <p>Why per thread: {@code /proc/<pid>/status} counts the main thread alone, and no file of {@code
 * /proc} keeps the switches of a thread that has exited. {@link #threadsGone} says how many threads
 * of the first sample were gone at the second, whose switches since the first sample are therefore
 * missing; the bench keeps every session open until its second sample, so the threads that carry the
 * transfer are all still there.
 *
 * @param ticks utime + stime of the whole process, in clock ticks ({@link #clockTicksPerSecond})
 * @param voluntary voluntary context switches of the live threads
 * @param involuntary involuntary context switches of the live threads
 * @param threads ids of the live threads
 */
record ProcSample(long ticks, long voluntary, long involuntary, Set<Integer> threads) {

    /** Reads the counters of process {@code pid}. */
    static ProcSample of(long pid) {
        Path proc = Path.of("/proc", Long.toString(pid));
        try {
            long ticks = cpuTicks(Files.readString(proc.resolve("stat"), StandardCharsets.US_ASCII));
            long voluntary = 0;
            long involuntary = 0;
            Set<Integer> threads = new HashSet<>();
            try (DirectoryStream<Path> tasks = Files.newDirectoryStream(proc.resolve("task"))) {
                for (Path task : tasks) {
                    long[] switches;
                    try {
                        switches = switches(Files.readString(task.resolve("status"), StandardCharsets.US_ASCII));
                    } catch (NoSuchFileException exited) {
                        continue; // the thread ended between the listing and the read
                    }
                    voluntary += switches[0];
                    involuntary += switches[1];
                    threads.add(Integer.parseInt(task.getFileName().toString()));
                }
            }
            return new ProcSample(ticks, voluntary, involuntary, Set.copyOf(threads));
        } catch (NoSuchFileException e) {
            throw new IllegalStateException("process " + pid + " is gone: it must still run when it is sampled", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + proc, e);
        }
    }

    /**
     * {@code utime + stime} from one line of {@code /proc/<pid>/stat}. The second field, the command
     * name in parentheses, may itself hold spaces and parentheses, so the fields are counted from the
     * last {@code ')'}: utime and stime are fields 14 and 15.
     *
     * @throws IllegalArgumentException if the line is not such a line
     */
    static long cpuTicks(String statLine) {
        int close = statLine.lastIndexOf(')');
        if (close < 0 || statLine.indexOf('(') < 0 || statLine.indexOf('(') > close) {
            throw new IllegalArgumentException("not a /proc/<pid>/stat line (no command in parentheses): " + statLine);
        }
        String[] rest = statLine.substring(close + 1).trim().split(" +");
        // rest[0] is field 3 (state), so field n is rest[n - 3]
        if (rest.length < 13) {
            throw new IllegalArgumentException("a /proc/<pid>/stat line with " + (rest.length + 2) + " fields, expected at least 15: "
                    + statLine);
        }
        try {
            return Long.parseLong(rest[14 - 3]) + Long.parseLong(rest[15 - 3]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("utime/stime of this /proc/<pid>/stat line are not numbers: " + statLine, e);
        }
    }

    /**
     * {voluntary, nonvoluntary} context switches from the text of a {@code /proc/.../status} file.
     *
     * @throws IllegalArgumentException if either line is missing
     */
    static long[] switches(String status) {
        long voluntary = -1;
        long involuntary = -1;
        for (String line : status.split("\n")) {
            if (line.startsWith("voluntary_ctxt_switches:")) {
                voluntary = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
            } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
                involuntary = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
            }
        }
        if (voluntary < 0 || involuntary < 0) {
            throw new IllegalArgumentException("no voluntary_ctxt_switches/nonvoluntary_ctxt_switches lines in a /proc status file");
        }
        return new long[] {voluntary, involuntary};
    }

    /** @return the context switches of the threads sampled */
    long switches() {
        return voluntary + involuntary;
    }

    /**
     * What the process did from {@code before} to this sample.
     *
     * @param ticksPerSecond {@link #clockTicksPerSecond()}
     */
    Usage since(ProcSample before, long ticksPerSecond) {
        int gone = 0;
        for (Integer t : before.threads) {
            if (!threads.contains(t)) {
                gone++;
            }
        }
        // a thread that exited took its count with it: the difference is then a lower bound, never negative
        long switched = Math.max(0, switches() - before.switches());
        return new Usage((double) (ticks - before.ticks) / ticksPerSecond, switched, gone);
    }

    /**
     * What one process did between two samples.
     *
     * @param cpuSeconds user + system CPU time
     * @param switches voluntary + involuntary context switches
     * @param threadsGone threads of the first sample that had exited by the second (their switches since the
     *     first sample are not counted)
     */
    record Usage(double cpuSeconds, long switches, int threadsGone) {
    }

    private static long clockTicks;

    /** The kernel's clock ticks per second for {@code /proc} times ({@code getconf CLK_TCK}); asked once. */
    static synchronized long clockTicksPerSecond() {
        if (clockTicks == 0) {
            try {
                Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
                if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    throw new IllegalStateException("`getconf CLK_TCK` failed: " + out);
                }
                clockTicks = Long.parseLong(out);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot run `getconf CLK_TCK` (the clock ticks of /proc/<pid>/stat)", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while asking getconf CLK_TCK", e);
            } catch (NumberFormatException e) {
                throw new IllegalStateException("`getconf CLK_TCK` did not print a number", e);
            }
        }
        return clockTicks;
    }
}
