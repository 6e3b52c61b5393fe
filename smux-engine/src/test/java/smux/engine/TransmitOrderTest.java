package smux.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import smux.api.SmuxConfig;
import smux.engine.runtime.EngineApp;

/**
 * What pollTransmit emits and in which order: control frames first, then data round-robin, up to
 * a quantum of bytes per stream per turn; a data frame only if it fits whole; SYN before a stream's data, FIN
 * after it; a UPD carries the count at the moment it leaves.
 */
class TransmitOrderTest {
    private static final SmuxConfig SMALL_FRAMES = SmuxConfig.builder().keepAliveDisabled().maxFrameSize(1000).build();

    @Test
    void dataIsServedRoundRobinAQuantumPerStreamPerTurn() throws IOException {
        EngineApp c = new EngineApp(true, SMALL_FRAMES, 0);
        int a = c.open(0);
        int b = c.open(0);
        int d = c.open(0);
        int q = SendScheduler.QUANTUM; // 131072: with 1000-byte frames, 132 frames make one turn
        c.write(a, ByteBuffer.allocate(q + 3000));
        c.write(b, ByteBuffer.allocate(1500));
        c.write(d, ByteBuffer.allocate(2000));
        List<String> order = new ArrayList<>();
        ByteBuffer staging = ByteBuffer.allocate(4 << 20);
        c.pull(staging, 0);
        staging.flip();
        for (Frame f : FrameRecorder.decode(2, java.util.Arrays.copyOf(staging.array(), staging.limit()))) {
            order.add(Command.name(f.command()) + f.streamId() + (f instanceof Frame.Psh ? ":" + f.length() : ""));
        }
        List<String> expected = new ArrayList<>(List.of("SYN3", "SYN5", "SYN7"));
        int firstTurn = (q + 999) / 1000; // frames until the quantum is reached: the crossing frame ends the turn
        for (int i = 0; i < firstTurn; i++) {
            expected.add("PSH3:1000");
        }
        expected.addAll(List.of("PSH5:1000", "PSH5:500", "PSH7:1000", "PSH7:1000"));
        int left = q + 3000 - firstTurn * 1000;
        for (; left > 0; left -= 1000) {
            expected.add("PSH3:" + Math.min(1000, left));
        }
        assertEquals(expected, order);
    }

    @Test
    void controlFramesOvertakeQueuedData() throws IOException {
        EngineApp c = new EngineApp(true, SMALL_FRAMES, 0);
        int a = c.open(0);
        c.write(a, ByteBuffer.allocate(5000));
        ByteBuffer staging = ByteBuffer.allocate(2100); // SYN + two data frames
        c.pull(staging, 0);
        // a new stream's SYN and the answer to a probe are queued while data waits
        int b = c.open(0);
        Wire.feed(c, FrameFactory.vrm(2, 0, 1, 2), 0);
        List<Frame> next = Wire.frames(c, 0);
        assertEquals(new Frame.Syn(b), next.get(0));
        assertEquals(new Frame.Vrm(VerifyCode.answer1(1), VerifyCode.answer2(2)), next.get(1));
        assertTrue(next.subList(2, next.size()).stream().allMatch(f -> f instanceof Frame.Psh));
    }

    @Test
    void aDataFrameIsEmittedOnlyIfItFitsWhole() throws IOException {
        EngineApp c = new EngineApp(true, SMALL_FRAMES, 0);
        int a = c.open(0);
        Wire.pull(c, 0);
        ByteBuffer src = ByteBuffer.allocate(5000);
        c.write(a, src);
        ByteBuffer staging = ByteBuffer.allocate(1007); // one byte short of a header + 1000
        assertEquals(0, c.pull(staging, 0));
        assertEquals(0, src.position(), "nothing committed");
        assertTrue(c.engine.wantsTransmit());
        staging = ByteBuffer.allocate(2500);
        assertEquals(2016, c.pull(staging, 0), "two whole frames, not a partial third");
        assertEquals(2000, src.position());
    }

    @Test
    void synPrecedesDataEvenWhenOnlyDataWouldFit() throws IOException {
        EngineApp c = new EngineApp(true, SMALL_FRAMES, 0);
        int a = c.open(0);
        c.write(a, ByteBuffer.allocate(10));
        ByteBuffer tiny = ByteBuffer.allocate(7); // not even a header
        assertEquals(0, c.pull(tiny, 0));
        assertEquals(List.of(new Frame.Syn(a), new Frame.Psh(a, new byte[10])), Wire.frames(c, 0));
    }

    @Test
    void finFollowsTheLastDataFrameInTheSamePull() throws IOException {
        EngineApp c = new EngineApp(true, SMALL_FRAMES, 0);
        int a = c.open(0);
        int b = c.open(0);
        c.write(a, ByteBuffer.allocate(1500));
        c.write(b, ByteBuffer.allocate(2500));
        c.closeWrite(a);
        List<Frame> frames = Wire.frames(c, 0);
        int lastDataOfA = -1;
        int finOfA = -1;
        for (int i = 0; i < frames.size(); i++) {
            if (frames.get(i) instanceof Frame.Psh && frames.get(i).streamId() == a) {
                lastDataOfA = i;
            }
            if (frames.get(i).equals(new Frame.Fin(a))) {
                finOfA = i;
            }
        }
        assertTrue(finOfA > lastDataOfA, "FIN after every byte of the stream: " + frames);
        assertEquals(1500, frames.stream().filter(f -> f instanceof Frame.Psh && f.streamId() == a)
                .mapToInt(Frame::length).sum());
    }

    @Test
    void updCarriesTheConsumedCountAtTheMomentItLeaves() throws IOException {
        EngineApp s = new EngineApp(false, SmuxConfig.builder().keepAliveDisabled().streamWindow(65536).build(), 0);
        Wire.feed(s, FrameFactory.concat(FrameFactory.syn(2, 3), FrameFactory.psh(2, 3, new byte[50_000])), 0);
        s.accept();
        s.read(3, ByteBuffer.allocate(10));   // first read: UPD due
        s.read(3, ByteBuffer.allocate(1000)); // another read before it left
        assertEquals(List.of(new Frame.Upd(3, 1010, 65536)), Wire.frames(s, 0), "one UPD, latest count");
        s.read(3, ByteBuffer.allocate(32767));
        assertEquals(List.of(), Wire.frames(s, 0), "32767 read since the last UPD: not yet half the window");
        s.read(3, ByteBuffer.allocate(1));
        assertEquals(List.of(new Frame.Upd(3, 33778, 65536)), Wire.frames(s, 0));
    }

    @Test
    void aWithdrawnWriteIsNeverSent() throws IOException {
        EngineApp c = new EngineApp(true, SMALL_FRAMES, 0);
        int a = c.open(0);
        ByteBuffer src = ByteBuffer.allocate(5000);
        c.write(a, src);
        assertEquals(0, c.withdraw(a));
        assertEquals(0, src.position());
        assertFalse(c.isWriting(a));
        assertEquals(-1, c.withdraw(a), "no write in progress");
        assertEquals(List.of(new Frame.Syn(a)), Wire.frames(c, 0));
        assertEquals(0, c.engine.bytesSent());
    }

    @Test
    void withdrawReportsWholeFramesPulledAndLeavesThePositionAfterThem() throws IOException {
        EngineApp c = new EngineApp(true, SMALL_FRAMES, 0);
        int a = c.open(0);
        ByteBuffer src = ByteBuffer.allocate(10_000);
        src.position(123); // the write starts where the caller's buffer is
        c.write(a, src);
        ByteBuffer staging = ByteBuffer.allocate(3100); // SYN + three frames
        c.pull(staging, 0);
        assertEquals(3000, c.withdraw(a));
        assertEquals(3123, src.position());
        assertEquals(3000, c.engine.bytesSent());
        assertFalse(c.engine.wantsTransmit());
    }

    @Test
    void aStreamWithoutWindowIsSkippedWhileOthersSend() throws IOException {
        EngineApp c = new EngineApp(true, Wire.quiet(2), 0);
        int a = c.open(0);
        int b = c.open(0);
        ByteBuffer blocked = ByteBuffer.allocate(1 << 20);
        c.write(a, blocked);
        Wire.pull(c, 0);
        assertEquals(262_144, blocked.position(), "a is out of window");
        ByteBuffer free = ByteBuffer.allocate(100_000);
        c.write(b, free);
        List<Frame> frames = Wire.frames(c, 0);
        assertTrue(frames.stream().allMatch(f -> f.streamId() == b));
        assertFalse(free.hasRemaining());
        assertTrue(c.isWriting(a));
    }

    @Test
    void aWindowUpdateResumesABlockedStream() throws IOException {
        EngineApp c = new EngineApp(true, Wire.quiet(2), 0);
        int a = c.open(0);
        ByteBuffer src = ByteBuffer.allocate(300_000);
        c.write(a, src);
        Wire.pull(c, 0);
        assertFalse(c.engine.wantsTransmit());
        Wire.feed(c, FrameFactory.upd(2, a, 100_000, 262_144), 0);
        assertTrue(c.engine.wantsTransmit());
        Wire.pull(c, 0);
        assertFalse(src.hasRemaining());
        assertFalse(c.isWriting(a), "the write ended on its side");
    }
}
