package smux.engine;

import java.nio.ByteBuffer;

/**
 * The smux frame layout, written once. Every frame is an 8-byte header and LENGTH payload bytes;
 * all integers are little-endian.
 *
 * <pre>
 *   0        1        2        3        4        5        6        7
 *  +--------+--------+--------+--------+--------+--------+--------+--------+
 *  |  VER   |  CMD   |   LENGTH (u16)  |          STREAMID (u32)           |
 *  +--------+--------+--------+--------+--------+--------+--------+--------+
 *  |                     payload: LENGTH bytes ...                         |
 *  +--------+--------+--------+--------+--------+--------+--------+--------+
 *
 *  SYN, FIN, NOP   LENGTH 0
 *  PSH             LENGTH 0..65535 bytes of stream data
 *  UPD (v2)        LENGTH 8:  CONSUMED (u32) | WINDOW (u32)   absolute byte counts mod 2^32
 *  VRM (probe)     LENGTH 8:  V1 (u32)       | V2 (u32)       STREAMID 0
 * </pre>
 *
 * <p>Writes go through absolute byte puts so that the byte order of the caller's buffer does not
 * matter; the decoder is {@link FrameDecoder}.
 */
public final class FrameCodec {
    /** Bytes in a frame header. */
    public static final int HEADER_SIZE = 8;
    /** Payload bytes of UPD and VRM frames. */
    public static final int PAIR_PAYLOAD_SIZE = 8;
    /** The largest LENGTH a header can carry. */
    public static final int MAX_PAYLOAD = 0xFFFF;

    private FrameCodec() {
    }

    /**
     * Tells whether two bytes open a TLS record rather than an smux frame: a TLS record starts
     * with its content type (20 to 24: change_cipher_spec, alert, handshake, application_data,
     * heartbeat) and the major version 3; an smux frame starts with VER 1 or 2, so the two never
     * meet. A ClientHello starts {@code 0x16 0x03}, an alert {@code 0x15 0x03}.
     *
     * @param first the first byte received
     * @param second the second byte received
     * @return true if they look like the start of a TLS record
     */
    public static boolean opensTlsRecord(byte first, byte second) {
        return first >= 0x14 && first <= 0x18 && second == 0x03;
    }

    /**
     * Writes a frame header at the buffer's position and advances it by 8.
     *
     * @param dst where to write; needs 8 bytes remaining
     * @param version VER
     * @param cmd CMD
     * @param length LENGTH, 0..65535
     * @param streamId STREAMID (u32 as int)
     */
    public static void putHeader(ByteBuffer dst, int version, int cmd, int length, int streamId) {
        int p = dst.position();
        putHeaderAt(dst, p, version, cmd, length, streamId);
        dst.position(p + HEADER_SIZE);
    }

    /**
     * Writes a frame header at {@code index}, leaving the buffer's position alone (for a header
     * written after its payload, once its length is known).
     *
     * @param dst where to write; needs 8 bytes from {@code index}
     * @param index where the header goes
     * @param version VER
     * @param cmd CMD
     * @param length LENGTH, 0..65535
     * @param streamId STREAMID (u32 as int)
     */
    public static void putHeaderAt(ByteBuffer dst, int index, int version, int cmd, int length, int streamId) {
        dst.put(index, (byte) version);
        dst.put(index + 1, (byte) cmd);
        dst.put(index + 2, (byte) length);
        dst.put(index + 3, (byte) (length >>> 8));
        putIntLE(dst, index + 4, streamId);
    }

    /**
     * Writes a whole UPD or VRM frame: header plus two u32 values.
     *
     * @param dst where to write; needs 16 bytes remaining
     * @param version VER
     * @param cmd UPD or VRM
     * @param streamId STREAMID
     * @param first CONSUMED or V1
     * @param second WINDOW or V2
     */
    public static void putPairFrame(ByteBuffer dst, int version, int cmd, int streamId, int first, int second) {
        putHeader(dst, version, cmd, PAIR_PAYLOAD_SIZE, streamId);
        int p = dst.position();
        putIntLE(dst, p, first);
        putIntLE(dst, p + 4, second);
        dst.position(p + PAIR_PAYLOAD_SIZE);
    }

    /**
     * Counts the stream payload that a connection which accepted only the first {@code written}
     * bytes of {@code frames} does not deliver: the whole payload of every PSH frame that does not
     * lie entirely within those bytes. A frame cut part-way counts whole, because the peer
     * discards a frame the connection ends inside. Frames start at index 0 and end at the
     * buffer's limit.
     *
     * @param frames whole frames from index 0 to its limit (a staging buffer as pulled)
     * @param written how many of its bytes the connection accepted
     * @return PSH payload bytes of the frames that end after {@code written}
     */
    public static long payloadNotDelivered(ByteBuffer frames, int written) {
        long lost = 0;
        int p = 0;
        int end = frames.limit();
        while (p + HEADER_SIZE <= end) {
            int length = lengthAt(frames, p);
            int next = p + HEADER_SIZE + length;
            if ((frames.get(p + 1) & 0xFF) == Command.PSH && next > written) {
                lost += length;
            }
            p = next;
        }
        return lost;
    }

    /**
     * Finds where a socket write that starts at the frame boundary {@code from} should end so that
     * it carries at most one data frame, last: the end of the first PSH frame with payload at or
     * after {@code from} (with the control frames before it), or the limit if none is left. A
     * blocking write that fails tells nothing of how much it handed over, so a write shaped this
     * way can have cut only its own data frame, and a close that gives up counts exactly.
     *
     * @param frames whole frames from index 0 to its limit
     * @param from a frame boundary
     * @return the index the write should end at, after {@code from}, at most the limit
     */
    public static int endOfNextDataFrame(ByteBuffer frames, int from) {
        int p = from;
        int end = frames.limit();
        while (p + HEADER_SIZE <= end) {
            int length = lengthAt(frames, p);
            int next = p + HEADER_SIZE + length;
            if ((frames.get(p + 1) & 0xFF) == Command.PSH && length > 0) {
                return Math.min(next, end);
            }
            p = next;
        }
        return end;
    }

    private static int lengthAt(ByteBuffer frames, int p) {
        return (frames.get(p + 2) & 0xFF) | (frames.get(p + 3) & 0xFF) << 8;
    }

    /**
     * Finds where the frame that holds byte {@code index} starts, in a buffer of whole frames from
     * index 0 (so a transport can keep a partly written frame whole, for {@link #payloadNotDelivered}).
     *
     * @param frames whole frames from index 0 to its limit
     * @param index a byte index below the limit
     * @return the start of the frame holding it
     */
    public static int frameStart(ByteBuffer frames, int index) {
        int p = 0;
        while (p + HEADER_SIZE <= frames.limit()) {
            int length = (frames.get(p + 2) & 0xFF) | (frames.get(p + 3) & 0xFF) << 8;
            int next = p + HEADER_SIZE + length;
            if (index < next) {
                return p;
            }
            p = next;
        }
        return p;
    }

    static void putIntLE(ByteBuffer dst, int index, int v) {
        dst.put(index, (byte) v);
        dst.put(index + 1, (byte) (v >>> 8));
        dst.put(index + 2, (byte) (v >>> 16));
        dst.put(index + 3, (byte) (v >>> 24));
    }

    static int getIntLE(byte[] b, int off) {
        return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8 | (b[off + 2] & 0xFF) << 16 | (b[off + 3] & 0xFF) << 24;
    }
}
