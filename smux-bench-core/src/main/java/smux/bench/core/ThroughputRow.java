package smux.bench.core;

/**
 * One contender of a throughput comparison. Each ratio divides by raw TCP's figure from the same
 * comparison; it is NaN for raw TCP itself and where raw TCP has no figure.
 *
 * @param transport {@code raw} for raw TCP; else the transport, with {@code @SIZE} when stagings are compared
 * @param mbps MB/s over all measured slices
 * @param ratio {@code mbps} over raw TCP's
 * @param ratioMin the lowest ratio of one round's slices
 * @param ratioMax the highest
 * @param mbPerCpuSecond MB moved per CPU-second this process used over the same slices: on a shared
 *     machine a contender with thousands of runnable threads wins more CPU from other processes
 *     than one with four, so the work per CPU-second is the fairer measure of cost
 * @param cpuRatio {@code mbPerCpuSecond} over raw TCP's
 * @param error why the contender failed, or null
 */
public record ThroughputRow(int streams, String transport, double mbps, double ratio, double ratioMin, double ratioMax,
                            double mbPerCpuSecond, double cpuRatio, String error) {
    /** The label of raw TCP, the baseline. */
    static final String RAW = "raw";

    boolean isRaw() {
        return transport.equals(RAW);
    }
}
