package smux.engine.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.concurrent.ThreadLocalRandom;
import smux.api.ProbeResult;
import smux.api.SmuxConfig;
import smux.engine.EngineEvent;
import smux.engine.FrameCodec;
import smux.engine.SmuxEngine;

/**
 * The probe ({@code Smux.probe}, {@code Smux.isSmux}) over a blocking socket: one engine sends the
 * probe frame and judges what comes back, reading exactly as many bytes as the frame being decoded
 * needs ({@link SmuxEngine#inputHint()}), so nothing past the answer is consumed and a session can
 * start on the same socket afterwards.
 *
 * <p>The engine only says yes or no; what the peer did instead is read from the wire here: a
 * connection that ends (or is reset) before a single byte came back is {@link ProbeResult#CLOSED},
 * as a Go xtaci/smux peer ends it; a first byte pair that opens a TLS record is
 * {@link ProbeResult#TLS}; silence until the timeout is {@link ProbeResult#NO_ANSWER}.
 */
public final class BlockingProbe {
    private BlockingProbe() {
    }

    /**
     * Probes the peer. Never throws for what the peer does.
     *
     * @param socket a connected socket that carries nothing yet
     * @param config the version and the timeout
     * @return what the peer did: {@link ProbeResult#SMUX} if it answered the probe correctly
     */
    public static ProbeResult probe(Socket socket, SmuxConfig config) {
        long start = System.nanoTime();
        long deadline = start + config.probeTimeout().toNanos();
        // The probe's gate judges every frame before a stream could be admitted: no stream is ever born here.
        SmuxEngine engine = new SmuxEngine(true, config.toBuilder().keepAliveDisabled().build(), start, id -> {
            throw new IllegalStateException("a probe carries no streams");
        });
        ThreadLocalRandom r = ThreadLocalRandom.current();
        engine.startProbe(r.nextInt(), r.nextInt(), start);
        Received received = new Received();
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
                    return answer ? ProbeResult.SMUX : received.judge(ProbeResult.NOT_SMUX);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return received.judge(ProbeResult.NO_ANSWER);
                }
                socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, Math.max(1, left / 1_000_000)));
                int want = Math.min(buf.length, engine.inputHint());
                int n;
                try {
                    n = in.read(buf, 0, want);
                } catch (SocketTimeoutException e) {
                    return received.judge(ProbeResult.NO_ANSWER);
                }
                long now = System.nanoTime();
                if (n < 0) {
                    return received.judge(ProbeResult.CLOSED);
                }
                received.add(buf, n);
                engine.handleInput(ByteBuffer.wrap(buf, 0, n), now);
            }
        } catch (IOException e) {
            return received.judge(ProbeResult.CLOSED); // a reset, or the peer closed before the probe was written
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

    /** The first two bytes the peer sent, which tell a TLS record, and how many came. */
    private static final class Received {
        private final byte[] first = new byte[2];
        private long count;

        void add(byte[] buf, int n) {
            for (int i = 0; i < n && count + i < first.length; i++) {
                first[(int) count + i] = buf[i];
            }
            count += n;
        }

        /**
         * @param ifPlain the outcome when nothing came, or what came is not TLS ({@link ProbeResult#CLOSED}
         *     and {@link ProbeResult#NO_ANSWER} hold only for a peer that sent nothing)
         */
        ProbeResult judge(ProbeResult ifPlain) {
            if (count >= 2 && FrameCodec.opensTlsRecord(first[0], first[1])) {
                return ProbeResult.TLS;
            }
            return count == 0 ? ifPlain : ProbeResult.NOT_SMUX;
        }
    }

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
