package smux.bench.core;

import smux.api.MemoryBudget;
import smux.api.SmuxConfig;

/** The session settings of one case: the plan's, with the case's transport and room for its streams. */
final class CaseConfig {
    private CaseConfig() {
    }

    /**
     * @param base the plan's settings
     * @param streams the streams the case opens on one session
     */
    static SmuxConfig of(SmuxConfig base, String transport, int streams) {
        SmuxConfig.Builder b = base.toBuilder().transport(transport);
        int room = streams + 16;
        if (room > base.maxStreams()) {
            b.maxStreams(room).acceptBacklog(Math.max(base.acceptBacklog(), room));
        }
        long reserved = (long) room * Math.max(base.initialStreamWindow(), SmuxConfig.INITIAL_PEER_WINDOW);
        if (base.version() == 2 && reserved > base.maxSessionBuffer()) {
            // the budget reserves max(initial window, 256 KiB) per stream; give every stream its share
            b.maxSessionBuffer(reserved).memoryBudget(forBothEnds(reserved));
        }
        return b.build();
    }

    /**
     * A memory budget that lets both ends of a loopback pair reserve {@code perSession} each: the
     * shared budget gives one session at most what stays free for the others, so a pair needs 3x (4x leaves room).
     */
    static MemoryBudget forBothEnds(long perSession) {
        return MemoryBudget.of(Math.max(MemoryBudget.MIN_CAPACITY, 4 * perSession));
    }
}
