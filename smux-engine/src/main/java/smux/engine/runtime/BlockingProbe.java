package smux.engine.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.concurrent.ThreadLocalRandom;
import smux.api.SmuxConfig;
import smux.engine.EngineEvent;
import smux.engine.SmuxEngine;

/**
 * The probe ({@code Smux.isSmux}) over a blocking socket: one engine sends the probe frame and
 * judges what comes back, reading exactly as many bytes as the frame being decoded needs
 * ({@link SmuxEngine#inputHint()}), so nothing past the answer is consumed and a session can
 * start on the same socket afterwards.
 */
public final class BlockingProbe {
    private BlockingProbe() {
    }

    /**
     * Probes the peer. Never throws for what the peer does.
     *
     * @param socket a connected socket that carries nothing yet
     * @param config the version and the timeout
     * @return true if the peer answered the probe correctly
     */
    public static boolean probe(Socket socket, SmuxConfig config) {
        long start = System.nanoTime();
        long deadline = start + config.probeTimeout().toNanos();
        SmuxEngine engine = new SmuxEngine(true, config.toBuilder().keepAliveDisabled().build(), start);
        ThreadLocalRandom r = ThreadLocalRandom.current();
        engine.startProbe(r.nextInt(), r.nextInt(), start);
        int previousTimeout = -1;
        try {
            previousTimeout = socket.getSoTimeout();
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            ByteBuffer frame = ByteBuffer.allocate(64);
            engine.pollTransmit(frame, start);
            out.write(frame.array(), 0, frame.position());
            out.flush();
            byte[] buf = new byte[FRAME_READ_LIMIT];
            while (true) {
                Boolean answer = answer(engine);
                if (answer != null) {
                    return answer;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, Math.max(1, left / 1_000_000)));
                int want = Math.min(buf.length, engine.inputHint());
                int n;
                try {
                    n = in.read(buf, 0, want);
                } catch (SocketTimeoutException e) {
                    return false;
                }
                long now = System.nanoTime();
                if (n < 0) {
                    engine.handleEof(now);
                } else {
                    engine.handleInput(ByteBuffer.wrap(buf, 0, n), now);
                }
            }
        } catch (IOException e) {
            return false;
        } finally {
            if (previousTimeout >= 0 && !socket.isClosed()) {
                try {
                    socket.setSoTimeout(previousTimeout);
                } catch (IOException ignored) {
                    // the socket is failing; the caller will find out
                }
            }
        }
    }

    private static final int FRAME_READ_LIMIT = 65_536;

    private static Boolean answer(SmuxEngine engine) {
        EngineEvent e;
        while ((e = engine.pollEvent()) != null) {
            if (e instanceof EngineEvent.ProbeResult p) {
                return p.smux();
            }
        }
        return engine.isClosed() ? Boolean.FALSE : null;
    }
}
