package smux.engine;

import java.nio.ByteBuffer;

/**
 * The engine's own {@link Outbound}, for a single-threaded caller: it holds the caller's buffer
 * while a write is in progress ({@link SmuxEngine#write}) and copies from it only when frames are
 * pulled, so that what has not been pulled can still be withdrawn.
 */
final class PendingWrite implements Outbound {
    private ByteBuffer src;
    private int start;
    private boolean writeClosed;

    @Override
    public int pending() {
        return src == null ? 0 : src.remaining();
    }

    @Override
    public int commit(ByteBuffer dst, int n) {
        dst.put(dst.position(), src, src.position(), n);
        dst.position(dst.position() + n);
        src.position(src.position() + n);
        if (!src.hasRemaining()) {
            src = null;
        }
        return n;
    }

    @Override
    public boolean writeClosed() {
        return writeClosed;
    }

    boolean writing() {
        return src != null;
    }

    void post(ByteBuffer buffer) {
        src = buffer;
        start = buffer.position();
    }

    /** Ends the write in progress. @return bytes of it committed, or -1 if none was in progress */
    int withdraw() {
        if (src == null) {
            return -1;
        }
        int committed = src.position() - start;
        src = null;
        return committed;
    }

    void closeWrite() {
        writeClosed = true;
    }
}
