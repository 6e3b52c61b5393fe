package smux.bench.core;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;

/** Heap and file-descriptor readings for the memory sections. */
final class Heap {
    private Heap() {
    }

    /**
     * Forces garbage collection a few times and reads the used heap.
     *
     * @return used heap bytes after the collections settled
     */
    static long usedAfterGc() {
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            try {
                Thread.sleep(60);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            best = Math.min(best, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return best;
    }

    /** @return CPU time this process has used, in nanoseconds, or -1 if this JVM cannot tell */
    static long processCpuNanos() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime();
        }
        return -1;
    }

    /** @return the process's file descriptor limit, or -1 if this JVM cannot tell */
    static long maxFileDescriptors() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            return unix.getMaxFileDescriptorCount();
        }
        return -1;
    }

    /** @return file descriptors open now, or -1 if this JVM cannot tell */
    static long openFileDescriptors() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            return unix.getOpenFileDescriptorCount();
        }
        return -1;
    }

    /**
     * How many connections (two sockets each, both ends in this process) fit under the file
     * descriptor limit, keeping a margin for the JVM's own files.
     *
     * @param wanted the connections asked for
     * @return {@code wanted}, or fewer if the limit is too low
     */
    static int connectionsThatFit(int wanted) {
        long max = maxFileDescriptors();
        long open = openFileDescriptors();
        if (max < 0 || open < 0) {
            return wanted;
        }
        long room = max - open - 64;
        return (int) Math.max(1, Math.min(wanted, room / 2));
    }
}
