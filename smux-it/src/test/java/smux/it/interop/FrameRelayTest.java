package smux.it.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import smux.it.interop.FrameRelay.Dir;
import smux.it.interop.FrameRelay.Frame;
import smux.it.interop.FrameRelay.WindowAudit;

/** The relay's decoder and window audit on hand-made frames: the interop tests rely on both. */
class FrameRelayTest {

    @Test
    @Timeout(20)
    void decodesFramesAndFlagsDataBeyondTheReceiversWindow() throws Exception {
        try (ServerSocket target = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             FrameRelay relay = FrameRelay.start((InetSocketAddress) target.getLocalSocketAddress(), true);
             Socket client = new Socket(relay.address().getAddress(), relay.address().getPort());
             Socket server = target.accept()) {
            OutputStream up = client.getOutputStream();
            OutputStream down = server.getOutputStream();

            // The initial guess may be used in full before any update...
            up.write(frame(0, 3, new byte[0]));
            up.write(frame(2, 3, new byte[FrameRelay.INITIAL_PEER_WINDOW]));
            relay.awaitForwarded(Dir.UP, 3, FrameRelay.INITIAL_PEER_WINDOW, Duration.ofSeconds(5));
            readFully(server.getInputStream(), 8 + 5 * 8 + FrameRelay.INITIAL_PEER_WINDOW); // SYN, 4 x 65535 + 4
            assertEquals(List.of(), relay.windowAudit(Dir.UP).violations());

            // ...and stays the bound while consumed + window is below it; one byte more is a violation.
            down.write(update(3, 100, 16384));
            readFully(client.getInputStream(), 16);
            up.write(frame(2, 3, new byte[] {42}));
            readFully(server.getInputStream(), 9);

            WindowAudit audit = relay.windowAudit(Dir.UP);
            assertEquals(1, audit.violations().size(), audit.violations().toString());
            assertTrue(audit.violations().get(0).contains("262145 bytes sent, receiver allowed 262144"),
                    audit.violations().get(0));
            assertEquals(16384, audit.smallestWindow());
            assertEquals(1, audit.updates());
            assertEquals(FrameRelay.INITIAL_PEER_WINDOW, audit.maxInflight(), "before the update: 262144 out, none consumed");

            List<Frame> frames = relay.frames(Dir.UP);
            assertEquals(7, frames.size());
            assertEquals("SYN", frames.get(0).cmdName());
            assertEquals(65535, frames.get(1).length());
            assertEquals(Content.sha256Hex(new byte[65535], 0, 65535), frames.get(1).sha256());
            assertEquals(4, frames.get(5).length());
            assertEquals("2a", frames.get(6).payload());
            Frame upd = relay.frames(Dir.DOWN).get(0);
            assertEquals(100, upd.consumed());
            assertEquals(16384, upd.window());
            assertEquals(List.of(), relay.decodeProblems());
        }
    }

    /** One frame, or several of at most 65535 bytes each if the payload is longer. */
    static byte[] frame(int cmd, int sid, byte[] payload) {
        int frames = Math.max(1, (payload.length + 65534) / 65535);
        ByteBuffer out = ByteBuffer.allocate(payload.length + 8 * frames).order(ByteOrder.LITTLE_ENDIAN);
        int off = 0;
        do {
            int n = Math.min(65535, payload.length - off);
            out.put((byte) 2).put((byte) cmd).putShort((short) n).putInt(sid).put(payload, off, n);
            off += n;
        } while (off < payload.length);
        return out.array();
    }

    static byte[] update(int sid, int consumed, int window) {
        ByteBuffer p = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(consumed).putInt(window);
        return frame(4, sid, p.array());
    }

    static void readFully(InputStream in, int n) throws Exception {
        byte[] b = new byte[n];
        int got = 0;
        while (got < n) {
            int k = in.read(b, got, n - got);
            if (k < 0) {
                throw new AssertionError("EOF after " + got + " of " + n);
            }
            got += k;
        }
    }
}
