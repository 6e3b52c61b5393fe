package smux.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import smux.api.ProtocolException;

/**
 * The frame codec, in the style of Jetty's http2 generator/parser tests: every frame type is
 * encoded, then decoded whole, one byte at a time, and twice back to back; the bytes are compared
 * with {@link FrameFactory}, an independent writing of the layout.
 */
class FrameCodecTest {

    static Stream<Arguments> frames() {
        List<Arguments> all = new java.util.ArrayList<>();
        for (int v = 1; v <= 2; v++) {
            all.add(Arguments.of(v, new Frame.Syn(3)));
            all.add(Arguments.of(v, new Frame.Syn(0xFFFF_FFFF)));
            all.add(Arguments.of(v, new Frame.Fin(2)));
            all.add(Arguments.of(v, new Frame.Psh(5, new byte[0])));
            all.add(Arguments.of(v, new Frame.Psh(5, Bytes.ascii("hello smux"))));
            all.add(Arguments.of(v, new Frame.Psh(0x8000_0001, Bytes.mod251(65535))));
            all.add(Arguments.of(v, new Frame.Nop()));
            all.add(Arguments.of(v, new Frame.Vrm(0xDEADBEEF, 0xCAFEBABE)));
        }
        // UPD exists in version 2 only
        all.add(Arguments.of(2, new Frame.Upd(3, 10, 65536)));
        all.add(Arguments.of(2, new Frame.Upd(4, 0xFFFF_FFFF, 0x8000_0000)));
        return all.stream();
    }

    private static List<Frame> decode(int version, byte[] bytes, int pieceSize) throws ProtocolException {
        FrameDecoder d = new FrameDecoder(version);
        FrameRecorder r = new FrameRecorder();
        for (int off = 0; off < bytes.length; off += pieceSize) {
            ByteBuffer piece = ByteBuffer.wrap(bytes, off, Math.min(pieceSize, bytes.length - off));
            d.decode(piece, r);
            assertFalse(piece.hasRemaining(), "a ready sink takes every byte");
        }
        assertTrue(d.atFrameBoundary());
        return r.frames;
    }

    @ParameterizedTest(name = "v{0} {1}")
    @MethodSource("frames")
    void encodesTheLayoutByteForByte(int version, Frame f) {
        byte[] payload = switch (f.command()) {
            case Command.PSH -> ((Frame.Psh) f).data();
            case Command.UPD -> FrameFactory.u32pair(((Frame.Upd) f).consumed(), ((Frame.Upd) f).window());
            case Command.VRM -> FrameFactory.u32pair(((Frame.Vrm) f).v1(), ((Frame.Vrm) f).v2());
            default -> new byte[0];
        };
        assertArrayEquals(FrameFactory.frame(version, f.command(), f.streamId(), payload), f.toBytes(version));
    }

    @ParameterizedTest(name = "v{0} {1}")
    @MethodSource("frames")
    void roundTripWhole(int version, Frame f) throws ProtocolException {
        byte[] b = f.toBytes(version);
        assertEquals(List.of(f), decode(version, b, b.length));
    }

    @ParameterizedTest(name = "v{0} {1}")
    @MethodSource("frames")
    void roundTripOneByteAtATime(int version, Frame f) throws ProtocolException {
        assertEquals(List.of(f), decode(version, f.toBytes(version), 1));
    }

    @ParameterizedTest(name = "v{0} {1}")
    @MethodSource("frames")
    void roundTripTwiceBackToBack(int version, Frame f) throws ProtocolException {
        byte[] one = f.toBytes(version);
        byte[] two = FrameFactory.concat(one, one);
        assertEquals(List.of(f, f), decode(version, two, two.length));
        // and split across the frame boundary at an odd place
        assertEquals(List.of(f, f), decode(version, two, one.length / 2 + 3));
    }

    @Test
    void encodingIgnoresTheBufferByteOrderAndWritesAtItsPosition() {
        ByteBuffer dst = ByteBuffer.allocate(40).order(ByteOrder.BIG_ENDIAN);
        dst.position(5);
        new Frame.Upd(0x01020304, 0x11223344, 0x55667788).encode(2, dst);
        assertEquals(21, dst.position());
        byte[] got = java.util.Arrays.copyOfRange(dst.array(), 5, 21);
        assertArrayEquals(FrameFactory.upd(2, 0x01020304, 0x11223344, 0x55667788), got);
        assertEquals(0, dst.get(4), "nothing written before the position");
    }

    @Test
    void pshPayloadIsStreamedInPiecesWithoutBuffering() throws ProtocolException {
        byte[] frame = new Frame.Psh(3, Bytes.mod251(1000)).toBytes(2);
        FrameDecoder d = new FrameDecoder(2);
        FrameRecorder r = new FrameRecorder();
        d.decode(ByteBuffer.wrap(frame, 0, 100), r);
        d.decode(ByteBuffer.wrap(frame, 100, 400), r);
        d.decode(ByteBuffer.wrap(frame, 500, frame.length - 500), r);
        assertEquals(3, r.dataPieces, "each input piece is handed over as it arrives");
        assertEquals(List.of(new Frame.Psh(3, Bytes.mod251(1000))), r.frames);
    }

    @Test
    void bytesNeededTracksEachPieceOfAFrame() throws ProtocolException {
        FrameDecoder d = new FrameDecoder(2);
        FrameRecorder r = new FrameRecorder();
        assertEquals(8, d.bytesNeeded());
        byte[] psh = FrameFactory.psh(2, 3, Bytes.mod251(100));
        d.decode(ByteBuffer.wrap(psh, 0, 3), r);
        assertEquals(5, d.bytesNeeded());
        assertFalse(d.atFrameBoundary());
        d.decode(ByteBuffer.wrap(psh, 3, 5), r);
        assertEquals(100, d.bytesNeeded(), "header done: the whole payload is needed");
        d.decode(ByteBuffer.wrap(psh, 8, 40), r);
        assertEquals(60, d.bytesNeeded());
        d.decode(ByteBuffer.wrap(psh, 48, 60), r);
        assertEquals(8, d.bytesNeeded());
        assertTrue(d.atFrameBoundary());

        byte[] upd = FrameFactory.upd(2, 3, 1, 2);
        d.decode(ByteBuffer.wrap(upd, 0, 8), r);
        assertEquals(8, d.bytesNeeded(), "UPD payload");
        d.decode(ByteBuffer.wrap(upd, 8, 3), r);
        assertEquals(5, d.bytesNeeded());
        d.decode(ByteBuffer.wrap(upd, 11, 5), r);
        assertEquals(8, d.bytesNeeded());
        assertEquals(2, d.framesDecoded());
    }

    @Test
    void readingExactlyBytesNeededNeverReadsPastAFrame() throws ProtocolException {
        // the probe's reader: it must stop at the end of the first frame, whatever follows
        byte[] stream = FrameFactory.concat(FrameFactory.vrm(2, 0, 7, 8), FrameFactory.syn(2, 3));
        FrameDecoder d = new FrameDecoder(2);
        FrameRecorder r = new FrameRecorder();
        int off = 0;
        while (r.frames.isEmpty()) {
            int n = d.bytesNeeded();
            d.decode(ByteBuffer.wrap(stream, off, n), r);
            off += n;
        }
        assertEquals(16, off);
        assertEquals(List.of(new Frame.Vrm(7, 8)), r.frames);
    }

    @Test
    void aSinkThatIsNotReadyPausesAtAFrameBoundary() throws ProtocolException {
        byte[] two = FrameFactory.concat(FrameFactory.psh(1, 3, Bytes.mod251(10)), FrameFactory.fin(1, 3));
        FrameDecoder d = new FrameDecoder(1);
        FrameRecorder r = new FrameRecorder();
        ByteBuffer src = ByteBuffer.wrap(two);
        r.ready = false;
        d.decode(src, r);
        assertEquals(0, src.position(), "nothing decoded while the sink is not ready");
        r.ready = true;
        ByteBuffer first = ByteBuffer.wrap(two, 0, 18);
        d.decode(first, r);
        r.ready = false;
        ByteBuffer rest = ByteBuffer.wrap(two, 18, 8);
        d.decode(rest, r);
        assertEquals(8, rest.remaining(), "the FIN stays in the source");
        r.ready = true;
        d.decode(rest, r);
        assertEquals(List.of(new Frame.Psh(3, Bytes.mod251(10)), new Frame.Fin(3)), r.frames);
    }

    @Test
    void aSinkPausedMidFrameStillReceivesTheRestOfThatFrame() throws ProtocolException {
        byte[] psh = FrameFactory.psh(1, 3, Bytes.mod251(10));
        FrameDecoder d = new FrameDecoder(1);
        FrameRecorder r = new FrameRecorder();
        d.decode(ByteBuffer.wrap(psh, 0, 4), r);
        r.ready = false; // only frame boundaries may pause
        ByteBuffer rest = ByteBuffer.wrap(psh, 4, psh.length - 4);
        d.decode(rest, r);
        assertFalse(rest.hasRemaining());
        assertEquals(1, r.frames.size());
    }

    @Test
    void aFailedDecoderStaysFailed() {
        FrameDecoder d = new FrameDecoder(2);
        FrameRecorder r = new FrameRecorder();
        assertThrows(ProtocolException.class, () -> d.decode(ByteBuffer.wrap(FrameFactory.nop(1)), r));
        assertThrows(IllegalStateException.class, () -> d.decode(ByteBuffer.wrap(FrameFactory.nop(2)), r));
        assertTrue(r.frames.isEmpty());
    }

    @Test
    void rejectsVersionsOtherThanOneAndTwoAndOversizedPayloads() {
        assertThrows(IllegalArgumentException.class, () -> new FrameDecoder(0));
        assertThrows(IllegalArgumentException.class, () -> new FrameDecoder(3));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Psh(3, new byte[65536]));
    }

    @Test
    void pshRecordKeepsItsOwnCopy() {
        byte[] data = Bytes.ascii("abc");
        Frame.Psh p = new Frame.Psh(3, data);
        data[0] = 'x';
        p.data()[1] = 'y';
        assertArrayEquals(Bytes.ascii("abc"), p.data());
    }

    @Test
    void commandNames() {
        assertEquals("SYN", Command.name(0));
        assertEquals("VRM", Command.name(0x7F));
        assertEquals("0x05", Command.name(5));
        assertEquals("0xFF", Command.name(0xFF));
    }

    @Test
    void payloadNotDeliveredCountsEveryDataFrameNotWrittenWhole() {
        ByteBuffer b = ByteBuffer.allocate(200);
        FrameCodec.putHeader(b, 2, Command.SYN, 0, 3);              // [0, 8)
        FrameCodec.putHeader(b, 2, Command.PSH, 10, 3);             // header [8, 16), data [16, 26)
        b.position(b.position() + 10);
        FrameCodec.putPairFrame(b, 2, Command.UPD, 3, 1, 2);        // [26, 42): not stream data
        FrameCodec.putHeader(b, 2, Command.PSH, 5, 5);              // header [42, 50), data [50, 55)
        b.position(b.position() + 5);
        FrameCodec.putHeader(b, 2, Command.FIN, 0, 3);              // [55, 63)
        b.flip();
        assertEquals(15, FrameCodec.payloadNotDelivered(b, 0));
        assertEquals(15, FrameCodec.payloadNotDelivered(b, 16), "a header written leaves its data unsent");
        assertEquals(15, FrameCodec.payloadNotDelivered(b, 20), "a frame cut part-way is lost whole: the peer drops it");
        assertEquals(15, FrameCodec.payloadNotDelivered(b, 25));
        assertEquals(5, FrameCodec.payloadNotDelivered(b, 26));
        assertEquals(5, FrameCodec.payloadNotDelivered(b, 45));
        assertEquals(5, FrameCodec.payloadNotDelivered(b, 54));
        assertEquals(0, FrameCodec.payloadNotDelivered(b, 55));
        assertEquals(0, FrameCodec.payloadNotDelivered(b, 63));
        assertEquals(0, FrameCodec.frameStart(b, 0));
        assertEquals(0, FrameCodec.frameStart(b, 7));
        assertEquals(8, FrameCodec.frameStart(b, 8));
        assertEquals(8, FrameCodec.frameStart(b, 25));
        assertEquals(26, FrameCodec.frameStart(b, 26));
        assertEquals(42, FrameCodec.frameStart(b, 54));
        assertEquals(55, FrameCodec.frameStart(b, 62));
    }

    @Test
    void aWriteEndsAtItsFirstDataFrame() {
        ByteBuffer b = ByteBuffer.allocate(200);
        FrameCodec.putHeader(b, 2, Command.SYN, 0, 3);              // [0, 8)
        FrameCodec.putHeader(b, 2, Command.PSH, 0, 3);              // [8, 16): empty, carries nothing
        FrameCodec.putHeader(b, 2, Command.PSH, 10, 3);             // [16, 34)
        b.position(b.position() + 10);
        FrameCodec.putPairFrame(b, 2, Command.UPD, 3, 1, 2);        // [34, 50)
        FrameCodec.putHeader(b, 2, Command.PSH, 5, 5);              // [50, 63)
        b.position(b.position() + 5);
        FrameCodec.putHeader(b, 2, Command.FIN, 0, 3);              // [63, 71)
        b.flip();
        assertEquals(34, FrameCodec.endOfNextDataFrame(b, 0), "control frames ride along, the data frame ends the write");
        assertEquals(34, FrameCodec.endOfNextDataFrame(b, 16));
        assertEquals(63, FrameCodec.endOfNextDataFrame(b, 34));
        assertEquals(71, FrameCodec.endOfNextDataFrame(b, 63), "no data frame left: the rest in one write");
    }
}
