package smux.engine;

import java.nio.ByteBuffer;
import smux.api.ProtocolException;
import smux.api.ProtocolException.Violation;

/**
 * Where decoded frames go: each to the part whose rules it concerns. SYN, FIN, PSH and UPD to the
 * streams ({@link StreamSet}), VRM to {@link Verification}, NOP nowhere (arriving at all is what
 * keepalive is about). What a peer can make the engine queue by itself, refusals here and VRM
 * answers in {@link Verification}, is bounded: a peer that sends them faster than it reads the
 * answers is in breach.
 */
final class FrameDispatch implements FrameSink {
    /** At most this many refusals (FIN for a stream we could not take) wait to be sent. */
    static final int MAX_QUEUED_REFUSALS = 4096;

    private final boolean client;
    private final boolean version2;
    private final SessionState session;
    private final StreamSet streams;
    private final SendScheduler scheduler;
    private final Verification verification;
    private final Keepalive keepalive;
    /** The stream the PSH being decoded belongs to, or null if its payload is dropped. */
    private EngineStream dataTarget;
    private int refusalsQueued;

    private long bytesReceived;
    private long bytesDropped;
    private long streamsAccepted;
    private long streamsRefused;

    FrameDispatch(boolean client, int version, SessionState session, StreamSet streams, SendScheduler scheduler,
                  Verification verification, Keepalive keepalive) {
        this.client = client;
        this.version2 = version == 2;
        this.session = session;
        this.streams = streams;
        this.scheduler = scheduler;
        this.verification = verification;
        this.keepalive = keepalive;
    }

    @Override
    public boolean readyForFrame() {
        return streams.readyForFrame();
    }

    @Override
    public void onFrame(int cmd, int streamId, int length) throws ProtocolException {
        switch (cmd) {
            case Command.SYN: onSyn(streamId); break;
            case Command.FIN: streams.finished(streamId); break;
            case Command.PSH: onPushHeader(streamId, length); break;
            default: break; // NOP: arriving at all is what keepalive is about
        }
    }

    @Override
    public void onData(int streamId, ByteBuffer src, int n) {
        EngineStream s = dataTarget;
        if (s == null || s.forgotten) { // dropped from the start, or the application closed it meanwhile
            src.position(src.position() + n);
            bytesDropped += n;
            return;
        }
        bytesReceived += n;
        if (streams.append(s, src, n)) {
            keepalive.inputPaused(); // input stops here
        }
    }

    @Override
    public void onPair(int cmd, int streamId, int first, int second) throws ProtocolException {
        if (cmd == Command.VRM) {
            verification.onVrm(streamId, first, second);
        } else {
            streams.peerUpdate(streamId, first, second);
        }
    }

    private void onSyn(int id) throws ProtocolException {
        String refusal = streams.admitPeer(id, client);
        if (refusal != null) {
            if (refusalsQueued >= MAX_QUEUED_REFUSALS) {
                throw new ProtocolException(Violation.CONTROL_BACKLOG, "the peer opened streams faster than it read "
                        + "their refusals (" + MAX_QUEUED_REFUSALS + " FIN frames unsent)");
            }
            refusalsQueued++;
            streamsRefused++;
            if (version2) {
                // no window at all, then FIN: this library's peer knows the stream was refused, not half-closed
                scheduler.queueControl(Command.UPD | SendScheduler.PEER_DRIVEN, id, 0, 0, null);
            }
            scheduler.queueControl(Command.FIN | SendScheduler.PEER_DRIVEN, id, 0, 0, null);
            return;
        }
        streamsAccepted++;
        session.events.add(new EngineEvent.StreamOpened(id));
    }

    private void onPushHeader(int id, int length) throws ProtocolException {
        dataTarget = null;
        if (length > 0) {
            dataTarget = streams.dataTarget(id, length);
        }
    }

    /** A refusal left. */
    void refusalSent() {
        refusalsQueued--;
    }

    /** The session is over: a payload still arriving is dropped. */
    void stop() {
        dataTarget = null;
    }

    long bytesReceived() {
        return bytesReceived;
    }

    long bytesDropped() {
        return bytesDropped;
    }

    long streamsAccepted() {
        return streamsAccepted;
    }

    long streamsRefused() {
        return streamsRefused;
    }
}
