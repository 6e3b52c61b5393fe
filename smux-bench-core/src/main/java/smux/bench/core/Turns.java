package smux.bench.core;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One throughput comparison: every contender opens its load, runs alone for a warm-up, then the
 * rounds begin: in each, every contender in turn (the order rotates) runs alone for a settle time
 * and a measured slice, while the others hold. Taking turns on one machine within seconds of each
 * other, the contenders meet the same noise, so their ratios hold where their absolute rates swing.
 */
final class Turns {
    private Turns() {
    }

    /**
     * One contender: a label and how to open its load, or why it cannot run here.
     *
     * @param refusal why it does not run (it gets a row with this error), or null
     */
    record Contender(String transport, Opener opener, String refusal) {
        static Contender of(String transport, Opener opener) {
            return new Contender(transport, opener, null);
        }

        static Contender refused(String transport, String why) {
            return new Contender(transport, null, why);
        }
    }

    /** Opens one contender's load. */
    interface Opener {
        Load open() throws Exception;
    }

    /**
     * The contenders' rows, in their order, and how busy other processes kept the machine meanwhile.
     *
     * @param otherCpus the CPUs other processes used during the rounds, NaN if unknown
     */
    record Outcome(List<ThroughputRow> rows, double otherCpus) {
    }

    /**
     * Runs the comparison and closes every load. Ratios are taken to the first contender if it is raw TCP.
     *
     * @param streams the stream count, for the rows
     * @param warm how long each contender runs alone before the rounds
     */
    static Outcome run(int streams, List<Contender> cs, Duration warm, Schedule schedule) {
        int k = cs.size();
        int rounds = schedule.rounds();
        Load[] loads = new Load[k];
        String[] errors = new String[k];
        long[] bytes = new long[k];
        long[] nanos = new long[k];
        long[] cpu = new long[k];
        double[][] perRound = new double[k][rounds];
        double otherCpus;
        try {
            for (int i = 0; i < k; i++) {
                errors[i] = cs.get(i).refusal();
                if (errors[i] == null) {
                    try {
                        loads[i] = cs.get(i).opener().open();
                    } catch (Exception e) {
                        errors[i] = e.toString();
                    }
                }
            }
            for (Load load : loads) {
                if (load != null) {
                    load.setActive(true);
                    Load.sleep(warm);
                    load.setActive(false);
                }
            }
            OtherLoad.Sample before = OtherLoad.sample();
            for (int r = 0; r < rounds; r++) {
                for (int j = 0; j < k; j++) {
                    int i = (j + r) % k;
                    Load load = loads[i];
                    if (load == null) {
                        continue;
                    }
                    load.setActive(true);
                    Load.sleep(schedule.settle());
                    // Bytes and wall time are read back to back, the CPU time outside that pair: a
                    // slow CPU-time read between them would count time in which no bytes were counted.
                    long c0 = Heap.processCpuNanos();
                    long t0 = System.nanoTime();
                    long b0 = load.bytes();
                    Load.sleep(schedule.slice());
                    long b1 = load.bytes();
                    long t1 = System.nanoTime();
                    long c1 = Heap.processCpuNanos();
                    load.setActive(false);
                    bytes[i] += b1 - b0;
                    nanos[i] += t1 - t0;
                    cpu[i] += c1 - c0;
                    perRound[i][r] = (b1 - b0) * 1e3 / (t1 - t0);
                }
            }
            otherCpus = OtherLoad.since(before);
        } finally {
            for (int i = k - 1; i >= 0; i--) {
                if (loads[i] != null) {
                    loads[i].close();
                    Throwable f = loads[i].failure();
                    if (f != null && errors[i] == null) {
                        errors[i] = f.toString();
                    }
                }
            }
        }
        int raw = cs.get(0).transport().equals(ThroughputRow.RAW) ? 0 : -1;
        double rawMbps = raw < 0 || nanos[raw] == 0 ? Double.NaN : bytes[raw] * 1e3 / nanos[raw];
        double rawPerCpu = raw < 0 || cpu[raw] <= 0 ? Double.NaN : bytes[raw] * 1e3 / cpu[raw];
        List<ThroughputRow> rows = new ArrayList<>(k);
        for (int i = 0; i < k; i++) {
            double mbps = nanos[i] == 0 ? Double.NaN : bytes[i] * 1e3 / nanos[i];
            double perCpu = cpu[i] <= 0 ? Double.NaN : bytes[i] * 1e3 / cpu[i];
            double lo = Double.NaN;
            double hi = Double.NaN;
            if (raw >= 0 && i != raw && nanos[raw] > 0 && nanos[i] > 0) {
                lo = Double.POSITIVE_INFINITY;
                hi = 0;
                for (int r = 0; r < rounds; r++) {
                    double q = perRound[i][r] / perRound[raw][r];
                    lo = Math.min(lo, q);
                    hi = Math.max(hi, q);
                }
            }
            boolean baseline = i == raw;
            rows.add(new ThroughputRow(streams, cs.get(i).transport(), mbps, baseline ? Double.NaN : mbps / rawMbps, lo, hi,
                    perCpu, baseline ? Double.NaN : perCpu / rawPerCpu, errors[i]));
        }
        return new Outcome(rows, otherCpus);
    }
}
