package smux.bench.core;

import java.util.List;

/**
 * Everything a run measured, for the reports ({@link TextReport}, {@link JsonReport}) and the
 * verdicts ({@link Targets}).
 *
 * @param nioSessions the NIO section's figures, or null if it did not run or could not start
 * @param nioError why the NIO section could not start, or null
 * @param otherLoad how busy other processes kept the machine during each measured case
 * @param leaks one line per case that left threads behind
 */
public record Results(Plan plan, Schedule schedule, Machine machine, List<ThroughputRow> throughput, List<RoundTripRow> roundTrips,
                      List<IdleStreams.Result> idleStreams, NioSessions.Result nioSessions, String nioError,
                      List<OtherLoad.During> otherLoad, List<String> leaks, double elapsedSeconds) {
    /** @return whether every case ran without error and cleaned up after itself (targets missed are not errors) */
    public boolean ok() {
        return leaks.isEmpty() && nioError == null
                && throughput.stream().allMatch(r -> r.error() == null)
                && roundTrips.stream().allMatch(r -> r.error() == null)
                && idleStreams.stream().allMatch(r -> r.error() == null)
                && (nioSessions == null || nioSessions.error() == null);
    }
}
