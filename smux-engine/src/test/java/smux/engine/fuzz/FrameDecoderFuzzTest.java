package smux.engine.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Timeout;
import smux.api.ProtocolException;
import smux.engine.Command;
import smux.engine.FrameCodec;

/**
 * Fuzz target: the frame decoder ({@code FrameDecoder}, {@code FrameCodec}) fed arbitrary bytes,
 * split at arbitrary points, with the consumer pausing at arbitrary frame boundaries. It checks
 * that the decoder throws nothing but a {@link ProtocolException} that names its violation, that
 * the split and the pauses never change what it decodes, that what it decodes is what a plain
 * whole-buffer reading of the frame table (SPEC.md section 2) finds, and that re-encoding the
 * decoded frames with {@code FrameCodec} gives back the input bytes.
 *
 * <p>Input layout (Jazzer's {@link FuzzedDataProvider}): the version, the split sizes and the
 * pause pattern come from the end of the input, the bytes to decode are the rest.
 */
class FrameDecoderFuzzTest {

    @FuzzTest
    @Timeout(10)
    void decodesTheSameWhereverTheBytesAreSplit(FuzzedDataProvider data) {
        FuzzRuns.count(FrameDecoderFuzzTest.class);
        int version = data.consumeBoolean() ? 2 : 1;
        int[] pieces = new int[data.consumeInt(0, 32)];
        for (int i = 0; i < pieces.length; i++) {
            pieces[i] = data.consumeInt(1, 70_000);
        }
        long pauses = data.consumeLong();
        byte[] input = data.consumeRemainingAsBytes();

        Transcript whole = decode(version, input, new int[0], 0);
        Transcript split = decode(version, input, pieces, pauses);
        Transcript oneByOne = input.length <= 512 ? decode(version, input, ones(input.length), pauses) : whole;
        Transcript reference = Transcript.reference(version, input);

        assertSameDecoding(whole, split, "split at " + Arrays.toString(pieces) + ", pauses " + Long.toHexString(pauses));
        assertSameDecoding(whole, oneByOne, "one byte at a time");
        assertSameDecoding(reference, whole, "the frame table read whole");
        assertReencodesTheInput(input, whole);
    }

    @AfterAll
    static void fuzzedFreshInputs() {
        FuzzRuns.assertFuzzedIfAsked(FrameDecoderFuzzTest.class);
    }

    private static int[] ones(int n) {
        int[] p = new int[n];
        Arrays.fill(p, 1);
        return p;
    }

    /**
     * Decodes {@code input} fed in pieces of the given sizes (the last piece takes the rest), the
     * consumer pausing at the frame boundaries whose bit is set in {@code pauses}.
     */
    static Transcript decode(int version, byte[] input, int[] pieces, long pauses) {
        Transcript t = new Transcript(version, pauses);
        FuzzEngine.Decoder decoder = new FuzzEngine.Decoder(version, t);
        int off = 0;
        try {
            for (int i = 0; off < input.length; i++) {
                int len = i < pieces.length ? Math.min(pieces[i], input.length - off) : input.length - off;
                int end = off + len;
                while (off < end) {
                    int n = decoder.feed(input, off, end - off);
                    off += n;
                    if (off < end) {
                        assertPausedAtABoundary(decoder, t);
                    }
                }
            }
        } catch (ProtocolException e) {
            t.error = e;
        }
        t.consumed = off;
        t.atBoundary = decoder.atFrameBoundary();
        t.bytesNeeded = decoder.bytesNeeded();
        t.frames = decoder.framesDecoded();
        return t;
    }

    /** The decoder returned early: only because the consumer said "not now", and only between frames. */
    static void assertPausedAtABoundary(FuzzEngine.Decoder decoder, Transcript t) {
        assertTrue(t.paused, "the decoder stopped early without a pause");
        assertTrue(decoder.atFrameBoundary(), "a pause left a frame half decoded");
        t.paused = false;
        t.resuming = true;
    }

    /** Same frames, same payload bytes, same end (violation and message, or the same partial frame). */
    static void assertSameDecoding(Transcript expected, Transcript actual, String how) {
        assertEquals(expected.events, actual.events, how + ": frames");
        assertArrayEquals(expected.canonical.toByteArray(), actual.canonical.toByteArray(), how + ": bytes");
        assertEquals(describe(expected.error), describe(actual.error), how + ": error");
        if (expected.error == null) {
            assertEquals(expected.consumed, actual.consumed, how + ": consumed");
            assertEquals(expected.atBoundary, actual.atBoundary, how + ": at a frame boundary");
            assertEquals(expected.bytesNeeded, actual.bytesNeeded, how + ": bytes needed");
            assertEquals(expected.frames, actual.frames, how + ": frames counted");
        }
    }

    /**
     * The decoded frames, encoded again with {@code FrameCodec}, are the input up to the first
     * frame that broke the protocol or was cut short; what follows is exactly that frame's start.
     */
    static void assertReencodesTheInput(byte[] input, Transcript t) {
        byte[] again = t.canonical.toByteArray();
        assertArrayEquals(Arrays.copyOf(input, again.length), again, "re-encoded frames differ from the input");
        if (t.error != null) {
            assertNotNull(t.error.violation());
            assertTrue(t.error.getMessage().startsWith(t.error.violation().name()), "the message names the violation");
            return;
        }
        assertEquals(input.length, t.consumed, "all input consumed");
        int tail = input.length - again.length;
        if (t.atBoundary) {
            assertEquals(0, tail, "at a boundary with bytes not decoded");
        } else {
            // cut short: a PSH payload (all of it re-encoded), or a header and part of a UPD/VRM payload
            assertTrue(t.bytesNeeded >= 1, "a partial frame needs at least one more byte");
            assertTrue(tail < 8 + 8, "undecoded bytes beyond one partial header and pair payload: " + tail);
        }
    }

    private static String describe(ProtocolException e) {
        return e == null ? "none" : e.violation() + ": " + e.getMessage();
    }

    /** What one decoding produced: frame events, the frames encoded again, and how it ended. */
    static final class Transcript implements FuzzEngine.FrameListener {
        /** Headers and pair frames, one string each ("H cmd id len", "P cmd id a b"). */
        final List<String> events = new ArrayList<>();
        /** Every decoded header, payload byte and pair frame, encoded again. */
        final ByteArrayOutputStream canonical = new ByteArrayOutputStream();
        private final int version;
        private final long pauses;
        private int boundaries;
        /** The consumer said "not now" at the last boundary. */
        boolean paused;
        /** The driver feeds again after a pause: the consumer is ready this time. */
        boolean resuming;
        ProtocolException error;
        int consumed;
        boolean atBoundary;
        int bytesNeeded;
        long frames;

        Transcript(int version, long pauses) {
            this.version = version;
            this.pauses = pauses;
        }

        @Override
        public boolean ready() {
            if (resuming) {
                resuming = false;
                return true;
            }
            paused = ((pauses >>> (boundaries++ & 63)) & 1) != 0;
            return !paused;
        }

        @Override
        public void header(int cmd, int streamId, int length) {
            events.add("H " + cmd + " " + streamId + " " + length);
            canonical.writeBytes(FuzzEngine.header(version, cmd, length, streamId));
        }

        @Override
        public void data(byte[] bytes, int off, int n) {
            canonical.write(bytes, off, n);
        }

        @Override
        public void pair(int cmd, int streamId, int first, int second) {
            events.add("P " + cmd + " " + streamId + " " + first + " " + second);
            canonical.writeBytes(FuzzEngine.pairFrame(version, cmd, streamId, first, second));
        }

        /**
         * Reads the whole input by the frame table of SPEC.md section 2, with no resumption: the
         * oracle the resumable decoder must agree with.
         */
        static Transcript reference(int version, byte[] in) {
            Transcript t = new Transcript(version, 0);
            int p = 0;
            while (in.length - p >= 8) {
                int ver = in[p] & 0xFF;
                int cmd = in[p + 1] & 0xFF;
                int len = (in[p + 2] & 0xFF) | (in[p + 3] & 0xFF) << 8;
                int id = le32(in, p + 4);
                ProtocolException.Violation broken = ver != version
                        ? p == 0 && FrameCodec.opensTlsRecord(in[0], in[1]) ? ProtocolException.Violation.TLS_RECORD
                        : ProtocolException.Violation.WRONG_VERSION
                        : ruleBroken(version, cmd, len);
                if (broken != null) {
                    t.error = new ProtocolException(broken, "reference");
                    t.consumed = p + 8;
                    return t.referenceError(version, in, p);
                }
                if (cmd == Command.UPD || cmd == Command.VRM) {
                    if (in.length - p < 16) {
                        break;
                    }
                    t.pair(cmd, id, le32(in, p + 8), le32(in, p + 12));
                    p += 16;
                    t.frames++;
                    continue;
                }
                t.header(cmd, id, len);
                int n = Math.min(len, in.length - p - 8);
                t.data(in, p + 8, n);
                p += 8 + n;
                if (n == len) {
                    t.frames++;
                } else {
                    t.consumed = in.length;
                    t.bytesNeeded = len - n;
                    return t;
                }
            }
            t.consumed = in.length;
            t.atBoundary = p == in.length;
            t.bytesNeeded = t.atBoundary ? 8 : (in.length - p >= 8 ? 16 - (in.length - p) : 8 - (in.length - p));
            return t;
        }

        /** The reference knows which rule broke, not the decoder's wording: take the decoder's message for it. */
        private Transcript referenceError(int version, byte[] in, int frameStart) {
            Transcript real = decode(version, Arrays.copyOf(in, frameStart + 8), new int[0], 0);
            assertNotNull(real.error, "the reference found a broken frame at " + frameStart + " that the decoder accepts");
            assertEquals(error.violation(), real.error.violation(), "violation of the frame at " + frameStart);
            error = real.error;
            return this;
        }

        /** @return the rule a header of a known version breaks, or null */
        static ProtocolException.Violation ruleBroken(int version, int cmd, int len) {
            switch (cmd) {
                case Command.SYN:
                case Command.FIN:
                case Command.NOP:
                    return len == 0 ? null : ProtocolException.Violation.BAD_LENGTH;
                case Command.PSH:
                    return null;
                case Command.UPD:
                    if (version == 1) {
                        return ProtocolException.Violation.UPDATE_IN_VERSION_1;
                    }
                    return len == 8 ? null : ProtocolException.Violation.BAD_LENGTH;
                case Command.VRM:
                    return len == 8 ? null : ProtocolException.Violation.BAD_LENGTH;
                default:
                    return ProtocolException.Violation.UNKNOWN_COMMAND;
            }
        }

        private static int le32(byte[] b, int off) {
            return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8 | (b[off + 2] & 0xFF) << 16 | (b[off + 3] & 0xFF) << 24;
        }
    }
}
