package smux.engine;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * One frame as an immutable value, for tests, listings and scripted peers. The engine's hot paths
 * never build these: they write headers straight into the staging buffer ({@link FrameCodec}) and
 * stream payloads out of the decoder ({@link FrameDecoder}).
 */
public sealed interface Frame permits Frame.Syn, Frame.Fin, Frame.Psh, Frame.Nop, Frame.Upd, Frame.Vrm {

    /** @return the CMD byte */
    int command();

    /** @return STREAMID (u32 as int) */
    int streamId();

    /** @return the payload length */
    int length();

    /**
     * Writes this frame, header and payload.
     *
     * @param version VER to put in the header
     * @param dst where to write
     */
    void encode(int version, ByteBuffer dst);

    /**
     * Encodes this frame into a new array.
     *
     * @param version VER to put in the header
     * @return the frame's bytes
     */
    default byte[] toBytes(int version) {
        ByteBuffer b = ByteBuffer.allocate(FrameCodec.HEADER_SIZE + length());
        encode(version, b);
        return b.array();
    }

    /** Opens a stream. @param streamId the new stream */
    record Syn(int streamId) implements Frame {
        public int command() { return Command.SYN; }
        public int length() { return 0; }
        public void encode(int version, ByteBuffer dst) { FrameCodec.putHeader(dst, version, Command.SYN, 0, streamId); }
    }

    /** Half-closes a stream. @param streamId the stream */
    record Fin(int streamId) implements Frame {
        public int command() { return Command.FIN; }
        public int length() { return 0; }
        public void encode(int version, ByteBuffer dst) { FrameCodec.putHeader(dst, version, Command.FIN, 0, streamId); }
    }

    /**
     * Carries stream data.
     *
     * @param streamId the stream
     * @param data the payload, at most 65535 bytes (the record keeps its own copy)
     */
    record Psh(int streamId, byte[] data) implements Frame {
        public Psh {
            if (data.length > FrameCodec.MAX_PAYLOAD) {
                throw new IllegalArgumentException("PSH payload of " + data.length + " bytes exceeds 65535");
            }
            data = data.clone();
        }
        public int command() { return Command.PSH; }
        public int length() { return data.length; }
        @Override public byte[] data() { return data.clone(); }
        public void encode(int version, ByteBuffer dst) {
            FrameCodec.putHeader(dst, version, Command.PSH, data.length, streamId);
            dst.put(data);
        }
        @Override public boolean equals(Object o) {
            return o instanceof Psh p && p.streamId == streamId && Arrays.equals(p.data, data);
        }
        @Override public int hashCode() { return 31 * streamId + Arrays.hashCode(data); }
        @Override public String toString() {
            String shown = data.length <= 32 ? HexFormat.of().formatHex(data) : data.length + " bytes";
            return "Psh[streamId=" + Integer.toUnsignedString(streamId) + ", data=" + shown + "]";
        }
    }

    /** Keepalive; always on stream 0. */
    record Nop() implements Frame {
        public int command() { return Command.NOP; }
        public int streamId() { return 0; }
        public int length() { return 0; }
        public void encode(int version, ByteBuffer dst) { FrameCodec.putHeader(dst, version, Command.NOP, 0, 0); }
    }

    /**
     * Version 2 window update.
     *
     * @param streamId the stream
     * @param consumed total bytes the receiver has read, mod 2^32
     * @param window the receiver's window
     */
    record Upd(int streamId, int consumed, int window) implements Frame {
        public int command() { return Command.UPD; }
        public int length() { return FrameCodec.PAIR_PAYLOAD_SIZE; }
        public void encode(int version, ByteBuffer dst) {
            FrameCodec.putPairFrame(dst, version, Command.UPD, streamId, consumed, window);
        }
    }

    /**
     * Probe request or answer, on stream 0.
     *
     * @param v1 first value
     * @param v2 second value
     */
    record Vrm(int v1, int v2) implements Frame {
        public int command() { return Command.VRM; }
        public int streamId() { return 0; }
        public int length() { return FrameCodec.PAIR_PAYLOAD_SIZE; }
        public void encode(int version, ByteBuffer dst) { FrameCodec.putPairFrame(dst, version, Command.VRM, 0, v1, v2); }
    }
}
