package smux.bench.core;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * The machine a run measured on, read as the run starts.
 *
 * @param loadAverage the system load average before the run (it counts the bench's own threads
 *     too, so it says nothing about the cases: see {@link OtherLoad})
 * @param fdLimit the process's file descriptor limit, or -1 if this JVM cannot tell
 */
public record Machine(int cpus, double loadAverage, String java, String vm, String os, String gc, long maxHeap, long fdLimit) {
    static Machine now() {
        List<String> gcs = new ArrayList<>();
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            gcs.add(gc.getName());
        }
        return new Machine(Runtime.getRuntime().availableProcessors(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                System.getProperty("java.version"), System.getProperty("java.vm.name"),
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"),
                String.join("/", gcs), Runtime.getRuntime().maxMemory(), Heap.maxFileDescriptors());
    }
}
