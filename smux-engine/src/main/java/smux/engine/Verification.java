package smux.engine;

import java.nio.ByteBuffer;
import java.util.function.Consumer;
import smux.api.ProtocolException;
import smux.api.ProtocolException.Violation;

/**
 * Peer verification on the wire: sends the probe and the ping ({@code VRM}), acts on what
 * {@link Verifier} makes of the VRM frames that arrive (answers the peer's own, bounded), and runs
 * the probe's gate.
 *
 * <p>The gate. While the probe waits for its answer, the gate stands in front of frame dispatch
 * ({@link #gate()}): the answer may only be a VRM (NOPs pass), and any other frame means the peer
 * is not smux. Once the probe is answered the gate lets every frame through, so the frames that
 * follow the answer in the same read reach dispatch as usual. This is the one place where
 * decoding looks at the probe; the ends of a session ask {@link #probing()} once, in the engine.
 */
final class Verification {
    /** At most this many VRM answers wait to be sent before the peer is in breach. */
    static final int MAX_QUEUED_ANSWERS = 16;

    private final Verifier verifier = new Verifier();
    private final SessionState session;
    private final SendScheduler scheduler;
    private final Timers timers;
    private final long probeTimeout;
    /** Ends the session as {@link CloseReason#NOT_SMUX}, with why. */
    private final Consumer<String> notSmux;
    private int answersQueued;

    Verification(SessionState session, SendScheduler scheduler, Timers timers, long probeTimeoutNanos,
                 Consumer<String> notSmux) {
        this.session = session;
        this.scheduler = scheduler;
        this.timers = timers;
        this.probeTimeout = probeTimeoutNanos;
        this.notSmux = notSmux;
    }

    /** Sends {@code VRM{v1, v2}} as the probe or a ping and arms its timer. */
    void start(boolean probe, int v1, int v2) {
        verifier.start(probe, v1, v2, session.now);
        scheduler.queueControl(Command.VRM, 0, v1, v2, null);
        timers.arm(Timers.Kind.PING, session.now + probeTimeout);
    }

    /** @return whether the probe waits for its answer */
    boolean probing() {
        return verifier.probing();
    }

    /** @return whether a probe or a ping waits for its answer */
    boolean busy() {
        return verifier.busy();
    }

    /** @return whether the peer proved to be this library */
    boolean peerVerified() {
        return verifier.peerVerified();
    }

    /** A VRM frame arrived. */
    void onVrm(int streamId, int v1, int v2) throws ProtocolException {
        if (streamId != 0) {
            throw new ProtocolException(Violation.BAD_SESSION_FRAME, "VRM on stream "
                    + Integer.toUnsignedString(streamId) + " (it belongs to stream 0)");
        }
        switch (verifier.onVrm(v1, v2, session.now)) {
            case PROBE_ANSWERED:
                timers.disarm(Timers.Kind.PING);
                session.events.add(new EngineEvent.ProbeResult(true));
                break;
            case PONG:
                timers.disarm(Timers.Kind.PING);
                session.events.add(new EngineEvent.Pong(verifier.rttNanos()));
                break;
            case NOT_SMUX:
                notSmux("its VRM answer was wrong");
                break;
            case LATE:
                break; // the answer to a ping that timed out
            default: // ANSWER
                if (answersQueued >= MAX_QUEUED_ANSWERS) {
                    throw new ProtocolException(Violation.CONTROL_BACKLOG, "the peer sent more than "
                            + MAX_QUEUED_ANSWERS + " VRM frames without reading the answers");
                }
                answersQueued++;
                scheduler.queueControl(Command.VRM | SendScheduler.PEER_DRIVEN, 0, VerifyCode.answer1(v1),
                        VerifyCode.answer2(v2), null);
                break;
        }
    }

    /** An answer to the peer's VRM left. */
    void answerSent() {
        answersQueued--;
    }

    /** The probe's or the ping's timer fired. */
    void onTimeout() {
        timers.disarm(Timers.Kind.PING);
        Verifier.Outcome o = verifier.onTimeout();
        if (o == Verifier.Outcome.NOT_SMUX) {
            notSmux("no answer within " + probeTimeout / 1_000_000 + " ms");
        } else if (o == Verifier.Outcome.PING_TIMED_OUT) {
            session.events.add(new EngineEvent.Pong(-1));
        }
    }

    /** The session ends: what waits for an answer is answered now, negatively. */
    void abandon() {
        Verifier.Outcome o = verifier.abandon();
        if (o == Verifier.Outcome.NOT_SMUX) {
            session.events.add(new EngineEvent.ProbeResult(false));
        } else if (o == Verifier.Outcome.PING_TIMED_OUT) {
            session.events.add(new EngineEvent.Pong(-1));
        }
    }

    /** The probe's verdict: the peer is not smux, and the session ends. */
    void notSmux(String why) {
        verifier.abandon(); // answered here, once
        session.events.add(new EngineEvent.ProbeResult(false));
        notSmux.accept(why);
    }

    /**
     * @param dispatch where frames go
     * @return the probe's gate in front of {@code dispatch}
     */
    FrameSink gate(FrameSink dispatch) {
        return new Gate(dispatch);
    }

    /** While the probe runs, only its answer (or a NOP) may arrive. */
    private final class Gate implements FrameSink {
        private final FrameSink dispatch;

        Gate(FrameSink dispatch) {
            this.dispatch = dispatch;
        }

        @Override
        public boolean readyForFrame() {
            return dispatch.readyForFrame();
        }

        @Override
        public void onFrame(int cmd, int streamId, int length) throws ProtocolException {
            if (verifier.probing() && cmd != Command.NOP) {
                notSmux("it answered with " + Command.name(cmd) + " instead of VRM");
                return;
            }
            dispatch.onFrame(cmd, streamId, length);
        }

        @Override
        public void onData(int streamId, ByteBuffer src, int n) throws ProtocolException {
            dispatch.onData(streamId, src, n); // a PSH while probing ended the session: its payload is dropped
        }

        @Override
        public void onPair(int cmd, int streamId, int first, int second) throws ProtocolException {
            if (verifier.probing() && cmd != Command.VRM) {
                notSmux("it answered with " + Command.name(cmd) + " instead of VRM");
                return;
            }
            dispatch.onPair(cmd, streamId, first, second);
        }
    }
}
