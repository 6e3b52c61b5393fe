package smux.engine;

import java.nio.ByteBuffer;

/**
 * The engine's own {@link Inbound}, for a single-threaded caller that reads through
 * {@link SmuxEngine#read}: the bytes wait in a {@link ReceiveBuffer}, and consumption is known
 * the moment it happens, so there is nothing to request.
 */
final class BufferedInbound implements Inbound {
    final ReceiveBuffer buffer;
    private long consumed;

    BufferedInbound(SegmentPool pool) {
        this.buffer = new ReceiveBuffer(pool);
    }

    @Override
    public void append(ByteBuffer src, int n) {
        buffer.append(src, n);
    }

    @Override
    public void finish() {
        // end-of-stream is the engine's stream state; SmuxEngine.read reports it
    }

    @Override
    public void requestConsumption(long total) {
        // reads go through the engine, which counts them as they happen
    }

    @Override
    public long consumed() {
        return consumed;
    }

    int read(ByteBuffer dst) {
        int n = buffer.read(dst);
        consumed += n;
        return n;
    }
}
