package smux.bench.core;

import java.time.Duration;

/**
 * How a run spends its time, from the measured seconds per case: each case first runs unmeasured
 * for the ramp; a comparison then splits the measured time into rounds in which every contender
 * takes a turn: a short settle, then one measured slice.
 *
 * @param measure measured time per case
 * @param ramp unmeasured time before it
 */
public record Schedule(Duration measure, Duration ramp) {
    /** @param seconds measured seconds per case */
    static Schedule of(double seconds) {
        return new Schedule(Duration.ofMillis(Math.round(seconds * 1000)),
                Duration.ofMillis(Math.round(Math.min(1.0, Math.max(0.3, seconds / 3)) * 1000)));
    }

    /** @return the first comparison's ramp, which also warms the JIT up */
    Duration warmUp() {
        return Duration.ofMillis(Math.max(ramp.toMillis(), Math.min(2000, measure.toMillis() / 2)));
    }

    /** @return measured rounds: enough to spread the noise of a shared machine, each slice at least 0.5 s */
    int rounds() {
        return (int) Math.max(1, Math.min(5, measure.toMillis() / 500));
    }

    /** @return one contender's measured time in one round */
    Duration slice() {
        return measure.dividedBy(rounds());
    }

    /** @return the time a contender runs unmeasured each time it takes its turn */
    Duration settle() {
        return Duration.ofMillis(Math.min(200, Math.max(50, slice().toMillis() / 5)));
    }
}
