package smux.transport.socket;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Hand-built frames, written from the wire format in docs/PROTOCOL.md (not with the engine's codec). */
final class Frames {
    static final int SYN = 0;
    static final int FIN = 1;
    static final int PSH = 2;
    static final int NOP = 3;
    static final int UPD = 4;
    static final int VRM = 0x7F;

    private Frames() {
    }

    /** @return the 8-byte header {@code VER CMD LENGTH(u16 LE) STREAMID(u32 LE)} followed by {@code payload} */
    static byte[] frame(int version, int cmd, int streamId, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(8 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) version).put((byte) cmd).putShort((short) payload.length).putInt(streamId).put(payload);
        return b.array();
    }

    static byte[] frame(int version, int cmd, int streamId) {
        return frame(version, cmd, streamId, new byte[0]);
    }

    /** @return two u32 little-endian values: the payload of UPD and VRM */
    static byte[] twoInts(int a, int b) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(a).putInt(b).array();
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }

    /** @return whether {@code needle} occurs in {@code haystack} */
    static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    static int u32le(byte[] b, int offset) {
        return ByteBuffer.wrap(b, offset, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }
}
