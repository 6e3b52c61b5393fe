package smux.engine;

import java.nio.ByteBuffer;
import smux.api.ProtocolException;
import smux.api.ProtocolException.Violation;

/**
 * A resumable decoder of the frame layout drawn in {@link FrameCodec}: it accepts received bytes
 * split at any point, keeps what it has of an unfinished header or UPD/VRM payload, and streams
 * PSH payloads to the sink as they arrive, so it never holds more than 8 bytes of its own.
 *
 * <p>It checks what one frame alone can break (xtaci HEAD's strictness): the version, the command,
 * LENGTH on SYN/FIN/NOP (must be 0) and on UPD/VRM (must be 8), and UPD on a version 1 session.
 * After a {@link ProtocolException} the decoder is spent.
 */
public final class FrameDecoder {
    private enum Phase { HEADER, DATA, PAIR, FAILED }

    private final int version;
    /** An auto session's decoder before its first frame: it sees only a first frame of neither version. */
    private final boolean detecting;
    private final byte[] scratch = new byte[FrameCodec.HEADER_SIZE];
    private int filled;
    private Phase phase = Phase.HEADER;
    private int cmd;
    private int streamId;
    private int dataRemaining;
    private long framesDecoded;

    /**
     * Creates a decoder for one session.
     *
     * @param version the session's protocol version, 1 or 2
     */
    public FrameDecoder(int version) {
        this(version, false);
    }

    private FrameDecoder(int version, boolean detecting) {
        if (version != 1 && version != 2) {
            throw new IllegalArgumentException("version must be 1 or 2, got " + version);
        }
        this.version = version;
        this.detecting = detecting;
    }

    /**
     * Returns the decoder an auto session holds until its peer's first frame settles the version.
     * The session replaces it as soon as that frame's VER is 1 or 2, so it only ever judges a first
     * frame of another version (or a TLS record), and refuses it naming what it found.
     *
     * @return a decoder that refuses every frame as of an unknown version
     */
    static FrameDecoder detecting() {
        return new FrameDecoder(2, true);
    }

    /**
     * Decodes as much of {@code src} as it can, calling the sink for each piece. Returns when
     * {@code src} is empty or the sink paused at a frame boundary.
     *
     * @param src received bytes; its position advances past what was decoded
     * @param sink receives the frames
     * @throws ProtocolException if the bytes break the protocol (the decoder is then spent)
     */
    public void decode(ByteBuffer src, FrameSink sink) throws ProtocolException {
        try {
            while (src.hasRemaining()) {
                switch (phase) {
                    case HEADER:
                        if (filled == 0 && !sink.readyForFrame()) {
                            return;
                        }
                        if (!fill(src, FrameCodec.HEADER_SIZE)) {
                            return;
                        }
                        onHeader(sink);
                        break;
                    case DATA:
                        int n = Math.min(dataRemaining, src.remaining());
                        int before = src.position();
                        sink.onData(streamId, src, n);
                        if (src.position() != before + n) {
                            throw new IllegalStateException("sink consumed " + (src.position() - before) + " of " + n + " bytes");
                        }
                        dataRemaining -= n;
                        if (dataRemaining == 0) {
                            endFrame();
                        }
                        break;
                    case PAIR:
                        if (!fill(src, FrameCodec.PAIR_PAYLOAD_SIZE)) {
                            return;
                        }
                        int first = FrameCodec.getIntLE(scratch, 0);
                        int second = FrameCodec.getIntLE(scratch, 4);
                        endFrame();
                        sink.onPair(cmd, streamId, first, second);
                        break;
                    default:
                        throw new IllegalStateException("the decoder failed earlier; the session is over");
                }
            }
        } catch (ProtocolException e) {
            phase = Phase.FAILED;
            throw e;
        }
    }

    /**
     * Returns how many more bytes finish the piece being decoded (a header, a PSH payload, or a
     * UPD/VRM payload). A reader that must not read past one frame (the probe) reads exactly this.
     *
     * @return bytes still needed, at least 1
     */
    public int bytesNeeded() {
        switch (phase) {
            case DATA: return dataRemaining;
            case PAIR: return FrameCodec.PAIR_PAYLOAD_SIZE - filled;
            default: return FrameCodec.HEADER_SIZE - filled;
        }
    }

    /** @return true if no frame is partly decoded */
    public boolean atFrameBoundary() {
        return phase == Phase.HEADER && filled == 0;
    }

    /**
     * Tells whether the connection ended inside its first header and what came of it opens a TLS
     * record (a TLS alert is 7 bytes, shorter than a header).
     *
     * @return the {@link Violation#TLS_RECORD} to report instead of a truncated frame, or null
     */
    public ProtocolException partialTlsRecord() {
        boolean partialFirstHeader = phase == Phase.HEADER && framesDecoded == 0 && filled >= 2;
        return partialFirstHeader && FrameCodec.opensTlsRecord(scratch[0], scratch[1]) ? tlsRecord() : null;
    }

    private ProtocolException tlsRecord() {
        return new ProtocolException(Violation.TLS_RECORD, String.format("the first bytes are 0x%02x 0x%02x, a TLS record, "
                + "not an smux frame: the peer speaks TLS and this end does not", scratch[0], scratch[1]));
    }

    /** @return how many whole frames were decoded */
    public long framesDecoded() {
        return framesDecoded;
    }

    private boolean fill(ByteBuffer src, int size) {
        int n = Math.min(size - filled, src.remaining());
        src.get(scratch, filled, n);
        filled += n;
        return filled == size;
    }

    private void endFrame() {
        phase = Phase.HEADER;
        filled = 0;
        framesDecoded++;
    }

    private void onHeader(FrameSink sink) throws ProtocolException {
        int ver = scratch[0] & 0xFF;
        cmd = scratch[1] & 0xFF;
        int length = (scratch[2] & 0xFF) | (scratch[3] & 0xFF) << 8;
        streamId = FrameCodec.getIntLE(scratch, 4);
        filled = 0;
        if (ver != version && framesDecoded == 0 && FrameCodec.opensTlsRecord(scratch[0], scratch[1])) {
            throw tlsRecord();
        }
        if (detecting) {
            throw new ProtocolException(Violation.WRONG_VERSION, "first frame of version " + ver + " (" + Command.name(cmd)
                    + " stream " + Integer.toUnsignedString(streamId) + "): this session takes version 1 or 2 from it");
        }
        if (ver != version) {
            throw new ProtocolException(Violation.WRONG_VERSION, "frame version " + ver + " on a version " + version
                    + " session (" + Command.name(cmd) + " stream " + Integer.toUnsignedString(streamId) + ")");
        }
        switch (cmd) {
            case Command.SYN:
            case Command.FIN:
            case Command.NOP:
                requireLength(length, 0);
                endFrame();
                sink.onFrame(cmd, streamId, 0);
                break;
            case Command.PSH:
                sink.onFrame(cmd, streamId, length);
                if (length == 0) {
                    endFrame();
                } else {
                    dataRemaining = length;
                    phase = Phase.DATA;
                }
                break;
            case Command.UPD:
                if (version == 1) {
                    throw new ProtocolException(Violation.UPDATE_IN_VERSION_1,
                            "window update for stream " + Integer.toUnsignedString(streamId) + " on a version 1 session");
                }
                requireLength(length, FrameCodec.PAIR_PAYLOAD_SIZE);
                phase = Phase.PAIR;
                break;
            case Command.VRM:
                requireLength(length, FrameCodec.PAIR_PAYLOAD_SIZE);
                phase = Phase.PAIR;
                break;
            default:
                throw new ProtocolException(Violation.UNKNOWN_COMMAND, "command " + Command.name(cmd)
                        + " (stream " + Integer.toUnsignedString(streamId) + ", length " + length + ")");
        }
    }

    private void requireLength(int length, int expected) throws ProtocolException {
        if (length != expected) {
            throw new ProtocolException(Violation.BAD_LENGTH, Command.name(cmd) + " frame with LENGTH " + length
                    + " (must be " + expected + ") on stream " + Integer.toUnsignedString(streamId));
        }
    }
}
