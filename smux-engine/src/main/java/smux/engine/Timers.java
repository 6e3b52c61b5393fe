package smux.engine;

/**
 * The engine's timers as data: one deadline per kind, armed or not; the next wake-up is the
 * earliest armed deadline. Times are {@code System.nanoTime()}-style values passed in by the
 * caller, compared by subtraction so that wrap-around does not matter.
 */
final class Timers {
    /** The kinds of timer. */
    enum Kind {
        /** Send a NOP. */
        KEEPALIVE,
        /** Nothing received for the keepalive timeout: the session is dead. */
        IDLE,
        /** The probe or a ping got no answer in time. */
        PING
    }

    private static final Kind[] KINDS = Kind.values();
    private final long[] deadline = new long[KINDS.length];
    private final boolean[] armed = new boolean[KINDS.length];

    void arm(Kind kind, long at) {
        deadline[kind.ordinal()] = at;
        armed[kind.ordinal()] = true;
    }

    void disarm(Kind kind) {
        armed[kind.ordinal()] = false;
    }

    void disarmAll() {
        java.util.Arrays.fill(armed, false);
    }

    boolean expired(Kind kind, long now) {
        return armed[kind.ordinal()] && now - deadline[kind.ordinal()] >= 0;
    }

    /** @return whether any timer is armed */
    boolean anyArmed() {
        for (boolean a : armed) {
            if (a) {
                return true;
            }
        }
        return false;
    }

    /** @return the earliest armed deadline; only meaningful if {@link #anyArmed()} */
    long next() {
        long best = 0;
        boolean found = false;
        for (int i = 0; i < deadline.length; i++) {
            if (armed[i] && (!found || deadline[i] - best < 0)) {
                best = deadline[i];
                found = true;
            }
        }
        return best;
    }
}
