package smux.engine;

import java.nio.ByteBuffer;

/**
 * Decides what leaves next. This is where guarantee 1 (no stream blocks another) and the commit
 * point of guarantee 2 (a timed-out write reports exactly what was committed) live.
 *
 * <p>Nothing is pushed into a shared queue: outbound data stays in the application's buffer,
 * attached to its stream, until the connection's writer pulls frames into its staging buffer with
 * {@link #pull}. A byte copied there is committed; a byte not yet copied can be withdrawn and is
 * never sent. Each pull first takes every queued control frame (SYN, FIN, UPD, NOP, VRM), so
 * window updates and keepalives never wait behind bulk data; then it takes one data frame at a
 * time from the streams in the ready ring, round-robin, each stream up to {@link #QUANTUM} bytes
 * per turn. Only a stream that has both pending data
 * and window is in the ring, so a stream without window is never even looked at and cannot hold
 * up another.
 *
 * <p>Order on one stream is kept: SYN is a control frame queued when the stream opens, so it
 * precedes the stream's data; a FIN requested while data is pending is queued the moment the last
 * pending byte is pulled, so it follows the data.
 */
final class SendScheduler {
    /** Told what the pulls did. */
    interface Listener {
        /** A stream's outbound has nothing more pending (pulled in full, or withdrawn). */
        void writeCommitted(EngineStream stream);

        /** A stream with data pending has spent its window: it waits for the peer's UPD. */
        void windowSpent(EngineStream stream);

        /** A UPD for the stream is about to leave: returns the window it carries (tuned, or fixed). */
        int windowForUpdate(EngineStream stream);

        /** A UPD for the stream left (or was dropped: the peer had finished): ask for the next report. */
        void updateSent(EngineStream stream);

        /** A control frame left (or, for a UPD of a finished stream, was dropped); marks included. */
        void controlSent(int rawCmd);
    }

    /**
     * A mark on a control frame the peer made us queue (a refusal FIN, a VRM answer), handed back
     * through {@link Listener#controlSent} so that those queues can be bounded.
     */
    static final int PEER_DRIVEN = 0x100;

    private final int version;
    private final int maxFrameSize;
    private final Listener listener;
    /** The time of the engine call in progress, for the streams' wait notes. */
    private final SessionState session;

    /**
     * Bytes a stream may send in one turn before the next ready stream is served (whole frames; the
     * frame that crosses it finishes the turn). Four default frames: a receiver then wakes its
     * reader about once per 128 KiB instead of once per frame, which doubled throughput with 1,000
     * busy streams (docs/PERFORMANCE.md), while a turn stays short enough to be fair.
     */
    static final int QUANTUM = 128 * 1024;

    // The control queue: a ring of (cmd, stream id, two u32 values, owning stream for UPD).
    private int[] cmds = new int[16];
    private int[] ids = new int[16];
    private int[] firsts = new int[16];
    private int[] seconds = new int[16];
    private EngineStream[] owners = new EngineStream[16];
    private int head;
    private int count;

    // The ready ring: streams with pending data and window. cursor is the next to serve.
    private EngineStream cursor;
    /** Bytes the cursor's stream has had in its current turn. */
    private int servedInTurn;
    private int ready;

    private long framesSent;
    private long dataBytesSent;

    SendScheduler(int version, int maxFrameSize, Listener listener, SessionState session) {
        this.session = session;
        this.version = version;
        this.maxFrameSize = maxFrameSize;
        this.listener = listener;
    }

    /**
     * Queues a control frame. The queue is not bounded here: the engine bounds what a peer can
     * make it queue (refusals, probe answers); everything else is at most a few per stream.
     *
     * @param cmd the command in the low 8 bits; higher bits are the engine's marks, handed back
     *     through {@link Listener#controlSent}
     * @param owner for UPD, the stream whose counters the frame carries when it leaves; else null
     *     (for a UPD, then {@code first} and {@code second} are its values)
     */
    void queueControl(int cmd, int streamId, int first, int second, EngineStream owner) {
        if (count == cmds.length) {
            grow();
        }
        int i = (head + count) & (cmds.length - 1);
        cmds[i] = cmd;
        ids[i] = streamId;
        firsts[i] = first;
        seconds[i] = second;
        owners[i] = owner;
        count++;
    }

    int controlQueued() {
        return count;
    }

    boolean hasWork() {
        return count > 0 || cursor != null;
    }

    /** Puts the stream in the ready ring if it has pending data and window. */
    void offer(EngineStream s) {
        if (s.inRing || s.out().pending() == 0 || s.flow.sendAllowance() == 0) {
            s.noteSendWait(session.now); // pending without window waits for the peer; nothing pending, for nothing
            return;
        }
        s.inRing = true;
        ready++;
        if (cursor == null) {
            s.ringNext = s;
            s.ringPrev = s;
            cursor = s;
        } else {
            // Insert just before the cursor: the newcomer is served after everyone waiting now.
            s.ringNext = cursor;
            s.ringPrev = cursor.ringPrev;
            cursor.ringPrev.ringNext = s;
            cursor.ringPrev = s;
        }
        s.noteSendWait(session.now);
    }

    /** Takes the stream out of the ready ring, if it is there. */
    void remove(EngineStream s) {
        if (!s.inRing) {
            s.noteSendWait(session.now); // a withdrawn write no longer waits for the peer's window
            return;
        }
        s.inRing = false;
        ready--;
        if (s.ringNext == s) {
            cursor = null;
        } else {
            s.ringPrev.ringNext = s.ringNext;
            s.ringNext.ringPrev = s.ringPrev;
            if (cursor == s) {
                cursor = s.ringNext;
            }
        }
        s.ringNext = null;
        s.ringPrev = null;
        s.noteSendWait(session.now);
    }

    /** Drops every queued frame and empties the ring (the session is over). */
    void clear() {
        while (cursor != null) {
            remove(cursor);
        }
        java.util.Arrays.fill(owners, null);
        head = 0;
        count = 0;
    }

    /**
     * Copies whole frames into {@code dst}, control frames first, then data round-robin, until
     * the next frame does not fit or nothing is left. Every data byte copied is committed.
     *
     * @param dst the staging buffer; frames go at its position
     * @return bytes written
     */
    int pull(ByteBuffer dst) {
        int start = dst.position();
        while (true) {
            if (!pullControl(dst)) {
                break;
            }
            EngineStream s = cursor;
            if (s == null) {
                break;
            }
            int waiting = s.out().pending();
            int chunk = (int) Math.min(Math.min(maxFrameSize, waiting), s.flow.sendAllowance());
            if (chunk == 0) {
                remove(s); // withdrawn, or the peer shrank its window below what is in flight
                if (waiting == 0) {
                    listener.writeCommitted(s);
                }
                continue;
            }
            if (dst.remaining() < FrameCodec.HEADER_SIZE + chunk) {
                break;
            }
            int header = dst.position();
            dst.position(header + FrameCodec.HEADER_SIZE);
            chunk = s.out().commit(dst, chunk);
            if (chunk == 0) {
                dst.position(header); // withdrawn since pending() was asked: nothing was committed
                remove(s);
                listener.writeCommitted(s);
                continue;
            }
            FrameCodec.putHeaderAt(dst, header, version, Command.PSH, chunk, s.id);
            s.flow.onSent(chunk);
            framesSent++;
            dataBytesSent += chunk;
            if (s.out().pending() == 0) {
                remove(s);
                listener.writeCommitted(s);
            } else if (s.flow.sendAllowance() == 0) {
                remove(s);
                listener.windowSpent(s);
            } else if ((servedInTurn += chunk) >= QUANTUM) {
                cursor = s.ringNext;
            }
            if (cursor != s) {
                servedInTurn = 0;
            }
        }
        return dst.position() - start;
    }

    /** @return true if the control queue is empty (all of it fit) */
    private boolean pullControl(ByteBuffer dst) {
        while (count > 0) {
            int raw = cmds[head];
            int cmd = raw & 0xFF;
            int size = FrameCodec.HEADER_SIZE + (cmd == Command.UPD || cmd == Command.VRM ? FrameCodec.PAIR_PAYLOAD_SIZE : 0);
            if (dst.remaining() < size) {
                return false;
            }
            EngineStream owner = owners[head];
            switch (cmd) {
                case Command.UPD:
                    if (owner == null) { // a reset: UPD{consumed, 0} right before the FIN of a stream we shed or refused
                        FrameCodec.putPairFrame(dst, version, cmd, ids[head], firsts[head], seconds[head]);
                        framesSent++;
                        break;
                    }
                    owner.updateQueued = false;
                    if (!owner.forgotten && owner.state.peerMayWrite()) {
                        int window = listener.windowForUpdate(owner);
                        FrameCodec.putPairFrame(dst, version, cmd, ids[head], owner.flow.advertise(window), window);
                        framesSent++;
                    }
                    if (!owner.forgotten) {
                        listener.updateSent(owner);
                    }
                    break;
                case Command.VRM:
                    FrameCodec.putPairFrame(dst, version, cmd, ids[head], firsts[head], seconds[head]);
                    framesSent++;
                    break;
                default:
                    FrameCodec.putHeader(dst, version, cmd, 0, ids[head]);
                    framesSent++;
                    break;
            }
            owners[head] = null;
            head = (head + 1) & (cmds.length - 1);
            count--;
            listener.controlSent(raw);
        }
        return true;
    }

    private void grow() {
        int n = cmds.length;
        int[] c = new int[n * 2];
        int[] i = new int[n * 2];
        int[] f = new int[n * 2];
        int[] s = new int[n * 2];
        EngineStream[] o = new EngineStream[n * 2];
        for (int k = 0; k < count; k++) {
            int from = (head + k) & (n - 1);
            c[k] = cmds[from];
            i[k] = ids[from];
            f[k] = firsts[from];
            s[k] = seconds[from];
            o[k] = owners[from];
        }
        cmds = c;
        ids = i;
        firsts = f;
        seconds = s;
        owners = o;
        head = 0;
    }

    long framesSent() {
        return framesSent;
    }

    long dataBytesSent() {
        return dataBytesSent;
    }

    int readyStreams() {
        return ready;
    }
}
