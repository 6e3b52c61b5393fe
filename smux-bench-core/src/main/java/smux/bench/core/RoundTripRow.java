package smux.bench.core;

/**
 * The round trips of one contender, in microseconds. The ratios divide by raw TCP's percentiles
 * from the same section; they are NaN for raw TCP itself and where raw TCP has no figure.
 *
 * @param transport {@code raw} for raw TCP, else the transport
 * @param count round trips measured
 * @param error why the contender failed, or null
 */
public record RoundTripRow(String transport, long count, double p50Micros, double p99Micros, double meanMicros,
                           double p50Ratio, double p99Ratio, String error) {
    /** @return a row of a contender that measured nothing */
    static RoundTripRow failed(String transport, String error) {
        return new RoundTripRow(transport, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, error);
    }

    boolean isRaw() {
        return transport.equals(ThroughputRow.RAW);
    }

    /** @return this row with its ratios to {@code raw}'s percentiles */
    RoundTripRow comparedTo(RoundTripRow raw) {
        return new RoundTripRow(transport, count, p50Micros, p99Micros, meanMicros, p50Micros / raw.p50Micros(),
                p99Micros / raw.p99Micros(), error);
    }
}
