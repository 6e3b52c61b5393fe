package smux.engine;

import java.util.ArrayDeque;

/**
 * Where the session stands, shared by the engine's parts: its phase, the time of the call being
 * handled, and the events waiting for the caller. Only {@link SmuxEngine} moves the phase and the
 * clock; the parts read them and add events.
 */
final class SessionState {
    /** OPEN until a local close (CLOSING: the last frames still leave) or a failure (CLOSED). */
    enum Phase { OPEN, CLOSING, CLOSED }

    Phase phase = Phase.OPEN;
    /** The time passed to the engine call being handled. */
    long now;
    /** What the engine tells its caller, oldest first ({@link SmuxEngine#pollEvent()}). */
    final ArrayDeque<EngineEvent> events = new ArrayDeque<>();

    boolean isOpen() {
        return phase == Phase.OPEN;
    }
}
