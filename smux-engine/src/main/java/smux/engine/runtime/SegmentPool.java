package smux.engine.runtime;

/**
 * Fixed-size byte segments shared by the receive buffers of one session. A stream holds
 * segments only while it has unread data, so an idle stream costs no buffer memory (the seed
 * allocated 512 KiB per stream up front), and a busy session recycles the same segments instead
 * of allocating per frame. At most {@code maxIdle} free segments are kept; the rest go to the GC,
 * and all of them when the session stays quiet for a keepalive interval ({@link #trim}, when the
 * engine reports {@code EngineEvent.Quiet}).
 *
 * <p>Thread-safe: in the session runtime the connection's thread takes segments while application
 * threads give them back. Each call holds a monitor for a few instructions and never blocks inside.
 */
public final class SegmentPool {
    /** The size of one segment. */
    public static final int SEGMENT_SIZE = 16 * 1024;

    /** A piece of a receive buffer: bytes {@code [start, end)} of {@code data} are unread. */
    static final class Segment {
        final byte[] data = new byte[SEGMENT_SIZE];
        int start;
        int end;
        Segment next;

        int readable() {
            return end - start;
        }

        int writable() {
            return SEGMENT_SIZE - end;
        }
    }

    private final int maxIdle;
    private Segment free;
    private int idle;
    private long allocated;

    /**
     * @param maxIdle how many free segments to keep at most
     */
    public SegmentPool(int maxIdle) {
        this.maxIdle = maxIdle;
    }

    synchronized Segment take() {
        Segment s = free;
        if (s == null) {
            allocated++;
            return new Segment();
        }
        free = s.next;
        s.next = null;
        idle--;
        return s;
    }

    synchronized void give(Segment s) {
        if (idle >= maxIdle) {
            return;
        }
        s.start = 0;
        s.end = 0;
        s.next = free;
        free = s;
        idle++;
    }

    /** Lets every idle segment go to the GC (the session went quiet). */
    public synchronized void trim() {
        free = null;
        idle = 0;
    }

    /** @return free segments kept for reuse */
    public synchronized int idle() {
        return idle;
    }

    /** @return segments ever allocated (a steady state allocates none) */
    public synchronized long allocated() {
        return allocated;
    }
}
