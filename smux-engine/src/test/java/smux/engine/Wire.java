package smux.engine;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import smux.api.ProtocolException;
import smux.api.SmuxConfig;
import smux.engine.runtime.EngineApp;

/**
 * Helpers for driving one engine by hand, as a scripted peer would: feed it bytes, pull what it
 * transmits (decoded into frames), take its events. The engine sits in an {@link EngineApp}, so
 * its streams have the production sides.
 */
final class Wire {
    private Wire() {
    }

    /** The configuration of the golden captures: keepalive off, frames of 32768, window 65536. */
    static SmuxConfig goldenConfig(int version) {
        return SmuxConfig.builder().version(version).keepAliveDisabled().maxFrameSize(32768).streamWindow(65536).build();
    }

    /** A plain configuration without keepalive (no timers unless a test asks for them). */
    /** Version {@code version}, no keepalive, a fixed 512 KiB window (tuning has tests of its own). */
    static SmuxConfig quiet(int version) {
        return SmuxConfig.builder().version(version).keepAliveDisabled().streamWindow(512 * 1024).build();
    }

    /** Everything the engine transmits now, with a staging buffer of the configured default size. */
    static byte[] pull(EngineApp e, long now) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer staging = ByteBuffer.allocate(256 * 1024);
        e.settle();
        while (e.engine.wantsTransmit()) {
            staging.clear();
            int n = e.pull(staging, now);
            if (n == 0) {
                break;
            }
            out.write(staging.array(), 0, n);
        }
        return out.toByteArray();
    }

    /** The frames the engine transmits now. */
    static List<Frame> frames(EngineApp e, long now) {
        return FrameRecorder.decode(e.engine.version(), pull(e, now));
    }

    /** Takes every pending event. */
    static List<EngineEvent> events(EngineApp e) {
        return e.pollEvents();
    }

    /** Feeds all of {@code bytes} in one buffer; returns how many the engine left unconsumed. */
    static int feed(EngineApp e, byte[] bytes, long now) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        e.feed(b, now);
        return b.remaining();
    }

    /** Feeds {@code bytes} one byte per call, as a trickling connection would. */
    static void feedBytewise(EngineApp e, byte[] bytes, long now) {
        for (int i = 0; i < bytes.length; i++) {
            ByteBuffer one = ByteBuffer.wrap(bytes, i, 1);
            e.feed(one, now);
            if (one.hasRemaining()) {
                throw new AssertionError("engine refused byte " + i + " of " + bytes.length);
            }
        }
    }

    /** Reads everything buffered on a stream (stops at 0 or end-of-stream). */
    static byte[] readAvailable(EngineApp e, int id) throws java.io.IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer dst = ByteBuffer.allocate(64 * 1024);
        while (true) {
            dst.clear();
            int n = e.read(id, dst);
            if (n <= 0) {
                return out.toByteArray();
            }
            out.write(dst.array(), 0, n);
        }
    }

    /** The {@link ProtocolException} behind a session's close, or fails if there is none. */
    static ProtocolException violationOf(EngineApp app) {
        SmuxEngine e = app.engine;
        if (e.closeError() == null || !(e.closeError().getCause() instanceof ProtocolException)) {
            throw new AssertionError("session not closed by a protocol error: reason " + e.closeReason()
                    + ", error " + e.closeError());
        }
        return (ProtocolException) e.closeError().getCause();
    }
}
