package smux.api;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The receive memory that sessions may hold, shared by every session configured with it: the most
 * bytes their peers may make them buffer, all together. By default every session of the process
 * draws from one {@linkplain #processWide() process-wide budget}, so that no number of peers that
 * send all the protocol allows and never read can exhaust the heap.
 *
 * <p>What a session reserves: a version 2 session reserves, for each of its first streams, the
 * most its peer may send on it before hearing from us ({@code max(streamWindow, 256 KiB)}); the
 * streams beyond (on credit, see {@link SmuxConfig}) take room for what they actually buffer, in
 * steps, and when it is refused the credit streams that hold the most are shed (their reads and
 * writes throw {@link LimitExceededException}). A version 1 session reserves room
 * for what it buffers, in steps, and stops reading its connection when it gets no more (as
 * xtaci/smux does at its own budget).
 *
 * <p><b>Fair share.</b> A session may hold at most as much as the budget keeps free for everybody
 * else: a reservation is granted only if, after it, the session holds no more than what is still
 * free (a session's first reservation needs only room). So a few sessions that fill what they
 * are given leave at least half of the remainder to the others: one hostile peer can take half,
 * two a quarter more, and a new session still gets a share.
 *
 * <p>Elastic memory (a tuned window that grows, and shrinks again when memory is tight) may use
 * the budget beyond the fair share while it is at most three quarters used
 * ({@link #tryReserveElastic}): a lone busy session can use most of a budget meant for it, and a
 * quarter stays for new streams and new sessions.
 *
 * <p>Thread-safe. Applications create budgets and read them; the session runtime reserves and
 * releases ({@link #tryReserve}, {@link #tryReserveElastic}, {@link #release}).
 */
public final class MemoryBudget {
    /** The system property that sets the process-wide budget, e.g. {@code 256m}, {@code 2g}, or bytes. */
    public static final String PROPERTY = "smux.memoryBudget";
    /** The smallest budget: room for one version 2 stream's reservation at the largest window guess. */
    public static final long MIN_CAPACITY = 1L << 20;

    private static final Object LOCK = new Object();
    private static MemoryBudget processWide;

    private final long capacity;
    private final AtomicLong used = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();
    private final AtomicLong refusals = new AtomicLong();

    private MemoryBudget(long capacity) {
        this.capacity = capacity;
    }

    /**
     * Creates a budget to share among the sessions configured with it
     * ({@link SmuxConfig.Builder#memoryBudget}).
     *
     * @param bytes the capacity, at least {@link #MIN_CAPACITY} (1 MiB)
     * @return a new, empty budget
     * @throws IllegalArgumentException if {@code bytes} is below 1 MiB
     */
    public static MemoryBudget of(long bytes) {
        if (bytes < MIN_CAPACITY) {
            throw new IllegalArgumentException("a memory budget must be at least 1 MiB (" + MIN_CAPACITY + " bytes), got " + bytes);
        }
        return new MemoryBudget(bytes);
    }

    /**
     * Returns the budget every session uses unless configured otherwise. Its capacity is the
     * system property {@value #PROPERTY} when set (bytes, or with a {@code k}, {@code m} or
     * {@code g} suffix), otherwise a quarter of the maximum heap ({@link Runtime#maxMemory()}),
     * and at least 16 MiB. It is created on first use.
     *
     * @return the process-wide budget
     * @throws IllegalArgumentException if the property is set but is not a size of at least 1 MiB
     */
    public static MemoryBudget processWide() {
        synchronized (LOCK) {
            if (processWide == null) {
                String setting = System.getProperty(PROPERTY);
                long bytes = setting == null || setting.isBlank()
                        ? Math.max(16L << 20, Runtime.getRuntime().maxMemory() / 4)
                        : parseSize(setting);
                processWide = of(bytes);
            }
            return processWide;
        }
    }

    /**
     * Parses a size such as {@code 65536}, {@code 512k}, {@code 64m} or {@code 2g} (powers of 1024).
     *
     * @param text the size
     * @return bytes
     * @throws IllegalArgumentException if it is not a size
     */
    static long parseSize(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        long unit = 1;
        char last = t.isEmpty() ? ' ' : t.charAt(t.length() - 1);
        switch (last) {
            case 'k': unit = 1L << 10; break;
            case 'm': unit = 1L << 20; break;
            case 'g': unit = 1L << 30; break;
            default: break;
        }
        String digits = unit == 1 ? t : t.substring(0, t.length() - 1);
        try {
            long n = Long.parseLong(digits.trim());
            if (n <= 0 || n > Long.MAX_VALUE / unit) {
                throw new NumberFormatException();
            }
            return n * unit;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(PROPERTY + " must be a size in bytes, optionally with k, m or g "
                    + "(for example 256m), got '" + text + "'");
        }
    }

    /** @return the most bytes the sessions using this budget may hold together */
    public long capacity() {
        return capacity;
    }

    /** @return the bytes reserved now */
    public long used() {
        return used.get();
    }

    /** @return the most bytes ever reserved at once */
    public long peak() {
        return peak.get();
    }

    /** @return how many reservations were refused so far */
    public long refusals() {
        return refusals.get();
    }

    /**
     * Reserves {@code bytes} for a session that holds {@code held} bytes of this budget already,
     * if the budget has room and the session stays within its fair share (see the class comment).
     * Called by the session runtime.
     *
     * @param held what the session holds of this budget now
     * @param bytes what it asks for, positive
     * @return whether the reservation was granted (the caller must {@link #release} it later)
     */
    public boolean tryReserve(long held, long bytes) {
        if (bytes <= 0 || held < 0) {
            throw new IllegalArgumentException("reserve a positive amount for a holder of a non-negative amount, got "
                    + bytes + " for " + held);
        }
        while (true) {
            long now = used.get();
            long after = now + bytes;
            if (after > capacity || (held > 0 && held + bytes > capacity - after)) {
                refusals.incrementAndGet();
                return false;
            }
            if (used.compareAndSet(now, after)) {
                peak.accumulateAndGet(after, Math::max);
                return true;
            }
        }
    }

    /**
     * Reserves {@code bytes} of elastic memory (a window that grows, which shrinks again when
     * memory is tight) for a session that holds {@code held}: granted while the budget stays at
     * most three quarters used, or else within the fair share of {@link #tryReserve}. Called by
     * the session runtime.
     *
     * @param held what the session holds of this budget now
     * @param bytes what it asks for, positive
     * @return whether the reservation was granted
     */
    public boolean tryReserveElastic(long held, long bytes) {
        if (bytes <= 0 || held < 0) {
            throw new IllegalArgumentException("reserve a positive amount for a holder of a non-negative amount, got "
                    + bytes + " for " + held);
        }
        while (true) {
            long now = used.get();
            long after = now + bytes;
            if (after > capacity / 4 * 3) {
                return tryReserve(held, bytes);
            }
            if (used.compareAndSet(now, after)) {
                peak.accumulateAndGet(after, Math::max);
                return true;
            }
        }
    }

    /**
     * Returns {@code bytes} reserved earlier. Called by the session runtime.
     *
     * @param bytes what was reserved, positive
     * @throws IllegalStateException if more is released than is reserved (a bug in the caller)
     */
    public void release(long bytes) {
        if (bytes <= 0) {
            return;
        }
        long after = used.addAndGet(-bytes);
        if (after < 0) {
            used.addAndGet(bytes);
            throw new IllegalStateException("released " + bytes + " bytes, more than the " + (after + bytes) + " reserved");
        }
    }

    @Override
    public String toString() {
        return "MemoryBudget{used=" + used.get() + ", capacity=" + capacity + ", peak=" + peak.get() + '}';
    }
}
