package smux.engine;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import smux.api.ProtocolException;

/**
 * A {@link FrameSink} that rebuilds every decoded frame as a {@link Frame} value, gathering PSH
 * payloads that arrive in pieces. Used to check the codec and to read what an engine transmits.
 */
final class FrameRecorder implements FrameSink {
    final List<Frame> frames = new ArrayList<>();
    /** How many PSH payload pieces arrived (a payload split across inputs arrives in several). */
    int dataPieces;
    /** Answer to {@link #readyForFrame()}. */
    boolean ready = true;

    private int pshId;
    private byte[] psh;
    private int pshFilled;

    @Override
    public boolean readyForFrame() {
        return ready;
    }

    @Override
    public void onFrame(int cmd, int streamId, int length) {
        switch (cmd) {
            case Command.SYN: frames.add(new Frame.Syn(streamId)); break;
            case Command.FIN: frames.add(new Frame.Fin(streamId)); break;
            case Command.NOP: frames.add(new Frame.Nop()); break;
            case Command.PSH:
                if (length == 0) {
                    frames.add(new Frame.Psh(streamId, new byte[0]));
                } else {
                    pshId = streamId;
                    psh = new byte[length];
                    pshFilled = 0;
                }
                break;
            default: throw new AssertionError("onFrame with command " + Command.name(cmd));
        }
    }

    @Override
    public void onData(int streamId, ByteBuffer src, int n) {
        if (psh == null || streamId != pshId || pshFilled + n > psh.length) {
            throw new AssertionError("data outside a PSH: stream " + streamId + ", " + n + " bytes");
        }
        src.get(psh, pshFilled, n);
        pshFilled += n;
        dataPieces++;
        if (pshFilled == psh.length) {
            frames.add(new Frame.Psh(pshId, psh));
            psh = null;
        }
    }

    @Override
    public void onPair(int cmd, int streamId, int first, int second) {
        if (cmd == Command.UPD) {
            frames.add(new Frame.Upd(streamId, first, second));
        } else if (cmd == Command.VRM && streamId == 0) {
            frames.add(new Frame.Vrm(first, second));
        } else {
            throw new AssertionError("onPair with command " + Command.name(cmd) + " on stream " + streamId);
        }
    }

    /** Decodes whole frames from {@code bytes} (fed in one piece). */
    static List<Frame> decode(int version, byte[] bytes) {
        FrameRecorder r = new FrameRecorder();
        try {
            new FrameDecoder(version).decode(ByteBuffer.wrap(bytes), r);
        } catch (ProtocolException e) {
            throw new AssertionError("could not decode: " + e.getMessage(), e);
        }
        if (r.psh != null) {
            throw new AssertionError("bytes end inside a PSH payload");
        }
        return r.frames;
    }
}
