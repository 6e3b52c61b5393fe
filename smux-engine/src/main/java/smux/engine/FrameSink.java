package smux.engine;

import java.nio.ByteBuffer;
import smux.api.ProtocolException;

/**
 * Receives what a {@link FrameDecoder} decodes. Headers arrive validated against the rules a
 * single frame can break (version, command, length); rules that need session state (windows,
 * stream ids) are the sink's to check.
 */
public interface FrameSink {
    /**
     * Asked at each frame boundary before the next header is decoded.
     *
     * @return false to pause decoding here; the undecoded bytes stay in the source buffer
     */
    boolean readyForFrame();

    /**
     * A SYN, FIN, NOP or PSH header. For PSH, {@code length} payload bytes follow through
     * {@link #onData}.
     *
     * @param cmd the command
     * @param streamId STREAMID (u32 as int)
     * @param length LENGTH
     * @throws ProtocolException if the frame breaks a rule of the session
     */
    void onFrame(int cmd, int streamId, int length) throws ProtocolException;

    /**
     * Part of a PSH payload: exactly {@code n} bytes at {@code src.position()}, which the sink
     * must consume (advance the position by {@code n}).
     *
     * @param streamId STREAMID of the PSH
     * @param src the received bytes
     * @param n how many of them belong to the payload, at least 1
     * @throws ProtocolException if the data breaks a rule of the session
     */
    void onData(int streamId, ByteBuffer src, int n) throws ProtocolException;

    /**
     * A whole UPD or VRM frame.
     *
     * @param cmd UPD or VRM
     * @param streamId STREAMID
     * @param first CONSUMED or V1
     * @param second WINDOW or V2
     * @throws ProtocolException if the frame breaks a rule of the session
     */
    void onPair(int cmd, int streamId, int first, int second) throws ProtocolException;
}
