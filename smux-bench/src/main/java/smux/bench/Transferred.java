package smux.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Counters JMH reports as rates next to the primary score: {@code :bytes} is payload bytes
 * delivered per second (the number to compare across benchmarks), {@code :frames} is frames per
 * second (both directions; 0 where there are no frames). Divide {@code gc.alloc.rate.norm} by
 * {@code frames / score} to get bytes allocated per frame.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class Transferred {
    /** Payload bytes that reached the receiving application. */
    public long bytes;
    /** Frames encoded (each is also decoded once). */
    public long frames;

    /** JMH does not reset auxiliary counters by itself. */
    @Setup(Level.Iteration)
    public void reset() {
        bytes = 0;
        frames = 0;
    }
}
