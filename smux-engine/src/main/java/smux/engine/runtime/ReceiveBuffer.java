package smux.engine.runtime;

import java.nio.ByteBuffer;

/**
 * The unread bytes of one stream: a chain of pooled segments, filled as frames arrive and drained
 * by the application's reads. Its size is bounded by the stream's window (version 2) or the
 * session's budget (version 1), checked before bytes are appended. Not thread-safe: its owner,
 * a {@link ReceiveSide}, guards it with the stream's lock.
 */
final class ReceiveBuffer {
    /**
     * The buffer of a stream that never buffered a byte: always empty, shared, never appended to
     * (a {@link ReceiveSide} makes its own before its first append).
     */
    static final ReceiveBuffer NONE = new ReceiveBuffer(null);

    private final SegmentPool pool;
    private SegmentPool.Segment head;
    private SegmentPool.Segment tail;
    private long size;

    /**
     * @param pool where segments come from and go back to
     */
    ReceiveBuffer(SegmentPool pool) {
        this.pool = pool;
    }

    /** @return unread bytes */
    long size() {
        return size;
    }

    /**
     * Appends {@code n} bytes from {@code src}'s position, advancing it.
     *
     * @param src the bytes
     * @param n how many
     */
    void append(ByteBuffer src, int n) {
        if (this == NONE) {
            throw new IllegalStateException("the shared empty receive buffer was appended to: make the stream's own first");
        }
        size += n;
        while (n > 0) {
            if (tail == null || tail.writable() == 0) {
                SegmentPool.Segment s = pool.take();
                if (tail == null) {
                    head = s;
                } else {
                    tail.next = s;
                }
                tail = s;
            }
            int chunk = Math.min(n, tail.writable());
            src.get(tail.data, tail.end, chunk);
            tail.end += chunk;
            n -= chunk;
        }
    }

    /**
     * Moves up to {@code dst.remaining()} bytes into {@code dst}.
     *
     * @param dst where to
     * @return bytes moved
     */
    int read(ByteBuffer dst) {
        int moved = 0;
        while (head != null && dst.hasRemaining()) {
            int chunk = Math.min(head.readable(), dst.remaining());
            dst.put(head.data, head.start, chunk);
            head.start += chunk;
            moved += chunk;
            if (head.readable() == 0) {
                releaseHead();
            }
        }
        size -= moved;
        return moved;
    }

    /**
     * Drops everything, returning the segments.
     *
     * @return bytes dropped
     */
    long clear() {
        long dropped = size;
        while (head != null) {
            releaseHead();
        }
        size = 0;
        return dropped;
    }

    private void releaseHead() {
        SegmentPool.Segment s = head;
        head = s.next;
        if (head == null) {
            tail = null;
        }
        s.next = null;
        pool.give(s);
    }
}
