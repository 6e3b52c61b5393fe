package smux.engine;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;

/**
 * Builds raw frame bytes for tests, including frames the encoder would never produce: any VER,
 * any CMD, a LENGTH that disagrees with the payload. Written independently of {@link FrameCodec}
 * so that codec tests compare two implementations of the layout, not one with itself.
 */
final class FrameFactory {
    private FrameFactory() {
    }

    /** An 8-byte header with every field as given (little-endian LENGTH and STREAMID). */
    static byte[] header(int ver, int cmd, int length, int streamId) {
        return new byte[] {
            (byte) ver, (byte) cmd,
            (byte) length, (byte) (length >>> 8),
            (byte) streamId, (byte) (streamId >>> 8), (byte) (streamId >>> 16), (byte) (streamId >>> 24)
        };
    }

    /** A header whose LENGTH is {@code declared}, followed by {@code payload} (lengths may disagree). */
    static byte[] raw(int ver, int cmd, int declared, int streamId, byte[] payload) {
        return concat(header(ver, cmd, declared, streamId), payload);
    }

    /** A well-formed frame: LENGTH is the payload's length. */
    static byte[] frame(int ver, int cmd, int streamId, byte[] payload) {
        if (payload.length > 0xFFFF) {
            throw new IllegalArgumentException("LENGTH is 16 bits: " + payload.length + " does not fit; use raw()");
        }
        return raw(ver, cmd, payload.length, streamId, payload);
    }

    static byte[] syn(int ver, int streamId) {
        return frame(ver, Command.SYN, streamId, new byte[0]);
    }

    static byte[] fin(int ver, int streamId) {
        return frame(ver, Command.FIN, streamId, new byte[0]);
    }

    static byte[] nop(int ver) {
        return frame(ver, Command.NOP, 0, new byte[0]);
    }

    static byte[] psh(int ver, int streamId, byte[] data) {
        return frame(ver, Command.PSH, streamId, data);
    }

    static byte[] upd(int ver, int streamId, int consumed, int window) {
        return frame(ver, Command.UPD, streamId, u32pair(consumed, window));
    }

    static byte[] vrm(int ver, int streamId, int v1, int v2) {
        return frame(ver, Command.VRM, streamId, u32pair(v1, v2));
    }

    static byte[] u32pair(int a, int b) {
        return new byte[] {
            (byte) a, (byte) (a >>> 8), (byte) (a >>> 16), (byte) (a >>> 24),
            (byte) b, (byte) (b >>> 8), (byte) (b >>> 16), (byte) (b >>> 24)
        };
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.write(p, 0, p.length);
        }
        return out.toByteArray();
    }

    static ByteBuffer buffer(byte[]... parts) {
        return ByteBuffer.wrap(concat(parts));
    }
}
