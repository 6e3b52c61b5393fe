package smux.engine;

/**
 * Peer verification with the VRM frame: the probe ({@code isSmux}, before a session carries
 * anything) and the ping (a round trip, once the peer is verified).
 *
 * <p>Theory of operation. We send {@code VRM{v1, v2}} with random values and expect back
 * {@code VRM{answer1(v1), answer2(v2)}} ({@link VerifyCode}). At most one probe or ping is
 * outstanding. A VRM that matches it is its answer; any other VRM is the peer's own request and is
 * answered, except the late answer of a ping that timed out (remembered, so that the two ends never
 * answer each other's answers forever). While probing, anything but the answer (another frame, a
 * wrong answer) means "not smux". Only this library sends VRM, so a peer that sends or answers one
 * is verified. This class decides; the engine sends frames, arms the timer and reports events.
 */
final class Verifier {
    /** What a VRM or a timeout means. */
    enum Outcome {
        /** The probe was answered correctly: the peer speaks this protocol. */
        PROBE_ANSWERED,
        /** The ping was answered: {@link #rttNanos} is its round trip. */
        PONG,
        /** The peer's own request: answer it. */
        ANSWER,
        /** The answer to a ping that had timed out: drop it. */
        LATE,
        /** The probe got something else: the peer is not smux. */
        NOT_SMUX,
        /** A ping got no answer in time. */
        PING_TIMED_OUT
    }

    private enum Pending { NONE, PROBE, PING }

    private Pending pending = Pending.NONE;
    private int expect1;
    private int expect2;
    private long started;
    private boolean peerVerified;
    private long rtt;
    /** Answers of the last pings that timed out: a VRM equal to one is that late answer, not a request. */
    private final long[] lateAnswers = new long[4];
    private final boolean[] lateAnswerPending = new boolean[4];
    private int lateAnswerNext;

    /** Starts a probe or a ping with the values the caller sends; the caller arms the timer. */
    void start(boolean probe, int v1, int v2, long now) {
        pending = probe ? Pending.PROBE : Pending.PING;
        expect1 = VerifyCode.answer1(v1);
        expect2 = VerifyCode.answer2(v2);
        started = now;
    }

    /** @return whether a probe is outstanding (every frame but NOP is then judged) */
    boolean probing() {
        return pending == Pending.PROBE;
    }

    /** @return whether a probe or a ping is outstanding */
    boolean busy() {
        return pending != Pending.NONE;
    }

    /** @return whether the peer proved to be this library */
    boolean peerVerified() {
        return peerVerified;
    }

    /** @return the round trip of the last {@link Outcome#PONG} */
    long rttNanos() {
        return rtt;
    }

    /** Judges a VRM frame {@code v1, v2} on stream 0. */
    Outcome onVrm(int v1, int v2, long now) {
        if (pending != Pending.NONE && v1 == expect1 && v2 == expect2) {
            boolean probe = pending == Pending.PROBE;
            pending = Pending.NONE;
            peerVerified = true;
            rtt = now - started;
            return probe ? Outcome.PROBE_ANSWERED : Outcome.PONG;
        }
        if (pending == Pending.PROBE) {
            pending = Pending.NONE;
            return Outcome.NOT_SMUX;
        }
        if (takeLateAnswer(v1, v2)) {
            return Outcome.LATE;
        }
        peerVerified = true; // only this library sends VRM
        return Outcome.ANSWER;
    }

    /** The timer fired. @return NOT_SMUX for a probe, PING_TIMED_OUT for a ping, null if none was pending */
    Outcome onTimeout() {
        Pending was = pending;
        pending = Pending.NONE;
        if (was == Pending.PROBE) {
            return Outcome.NOT_SMUX;
        }
        if (was == Pending.PING) {
            // its answer may still come: it must be dropped, not answered as if it were a ping
            lateAnswers[lateAnswerNext] = pairKey(expect1, expect2);
            lateAnswerPending[lateAnswerNext] = true;
            lateAnswerNext = (lateAnswerNext + 1) % lateAnswers.length;
            return Outcome.PING_TIMED_OUT;
        }
        return null;
    }

    /** The session ended. @return what was pending and is now given up (as {@link #onTimeout}), or null */
    Outcome abandon() {
        Pending was = pending;
        pending = Pending.NONE;
        return was == Pending.PROBE ? Outcome.NOT_SMUX : was == Pending.PING ? Outcome.PING_TIMED_OUT : null;
    }

    private static long pairKey(int v1, int v2) {
        return (long) v1 << 32 | (v2 & 0xFFFF_FFFFL);
    }

    private boolean takeLateAnswer(int v1, int v2) {
        long key = pairKey(v1, v2);
        for (int i = 0; i < lateAnswers.length; i++) {
            if (lateAnswerPending[i] && lateAnswers[i] == key) {
                lateAnswerPending[i] = false;
                return true;
            }
        }
        return false;
    }
}
