package smux.engine;

import smux.api.LimitExceededException;
import smux.api.MemoryBudget;
import smux.api.SmuxConfig;

/**
 * Which streams a session takes, and the receive memory it holds for them.
 *
 * <p>Theory of operation. Memory is reserved <em>before</em> a peer can use it, never granted on
 * credit, from two budgets at once: the session's own {@code maxSessionBuffer} and the
 * {@link MemoryBudget} it shares with other sessions (which also keeps one session from taking
 * more than its fair share).
 * <ul>
 *   <li>Version 2: each open stream reserves {@code max(window, 256 KiB)}: the most its peer may
 *       send before it hears from us (xtaci's initial window guess) or after (our window). A stream
 *       that cannot be reserved is refused: a local open fails, a peer's SYN is answered with FIN.
 *       The reservation is returned when the engine forgets the stream.</li>
 *   <li>Version 1: no per-stream windows; the session holds room for what it buffers. It starts
 *       with room for one whole frame (so it can always make progress once its application has
 *       read everything), grows the room in steps before each frame that would not fit, and gives
 *       back what it no longer needs as the application reads. When it gets no more room (its
 *       {@code maxSessionBuffer}, or the shared budget), the engine stops taking input, as xtaci's
 *       MaxReceiveBuffer does.</li>
 * </ul>
 * Once the session is over no more bytes can arrive, so everything but what is still buffered for
 * the application is returned at once ({@link #sessionEnded}), and the rest as it is read or
 * dropped ({@link #bufferFreed}).
 *
 * <p>Stream ids follow xtaci: the client's are odd from 3, the server's even from 2; when they
 * run out, opening fails locally.
 */
final class Admission {
    /** Room for the largest frame a version 1 peer may send. */
    static final long FRAME_ROOM = SmuxConfig.MAX_FRAME_SIZE;
    /** Version 1 room grows and shrinks in steps of this size, so most frames touch no shared counter. */
    static final long ROOM_STEP = 256 * 1024;

    private final boolean client;
    private final boolean windowed;
    private final long reservation;
    private final long maxSessionBuffer;
    private final int maxStreams;
    private final int acceptBacklog;
    private final MemoryBudget budget;

    private long lastStreamId;
    /** What this session holds of the shared budget (and of its own maxSessionBuffer). */
    private long held;
    private boolean ended;

    /**
     * @throws LimitExceededException if a version 1 session finds no room for its first frame
     */
    Admission(boolean client, SmuxConfig config) throws LimitExceededException {
        this.client = client;
        this.windowed = config.version() == 2;
        this.reservation = Math.max(config.initialStreamWindow(), SmuxConfig.INITIAL_PEER_WINDOW);
        this.maxSessionBuffer = config.maxSessionBuffer();
        this.maxStreams = config.maxStreams();
        this.acceptBacklog = config.acceptBacklog();
        this.budget = config.memoryBudget();
        this.lastStreamId = client ? 1 : 0; // xtaci increments before use: first ids are 3 and 2
        if (!windowed) {
            if (!budget.tryReserve(0, FRAME_ROOM)) {
                throw new LimitExceededException("the shared memory budget has no room for a new session (" + budget.used()
                        + " of " + budget.capacity() + " bytes reserved): close sessions or raise the budget ("
                        + MemoryBudget.PROPERTY + " or SmuxConfig.memoryBudget)");
            }
            held = FRAME_ROOM;
        }
    }

    // ---------------------------------------------------------------- ids

    /** @return whether this side has opened no stream yet */
    boolean noneOpened() {
        return lastStreamId == (client ? 1 : 0);
    }

    /** @return whether {@code id} is one the peer may open: even if we are the client, odd otherwise */
    boolean isPeerId(int id) {
        return id != 0 && ((id & 1) == 0) == client;
    }

    /**
     * Admits a stream this side opens and returns its id.
     *
     * @param open streams open now
     * @throws LimitExceededException if the ids, maxStreams or the memory are used up
     */
    int openLocal(int open) throws LimitExceededException {
        if (lastStreamId + 2 > 0xFFFF_FFFFL) {
            throw new LimitExceededException("stream ids of this session are used up (the last was "
                    + lastStreamId + "): start a new session");
        }
        String refusal = admit(open);
        if (refusal != null) {
            throw new LimitExceededException("cannot open a stream: " + refusal);
        }
        lastStreamId += 2;
        return (int) lastStreamId;
    }

    /**
     * Admits a stream the peer opened, or says why not (the caller refuses it with FIN).
     *
     * @param open streams open now
     * @param waiting streams waiting in the accept backlog
     * @return null if admitted (its memory is reserved), else the reason
     */
    String admitPeer(int open, int waiting) {
        if (waiting >= acceptBacklog) {
            return "accept backlog full (" + acceptBacklog + ")";
        }
        return admit(open);
    }

    private String admit(int open) {
        if (ended) {
            return "the session is over";
        }
        if (open >= maxStreams) {
            return "the session holds maxStreams = " + maxStreams + " streams; close some or raise maxStreams";
        }
        if (!windowed) {
            return null;
        }
        if (held + reservation > maxSessionBuffer) {
            return "the receive budget maxSessionBuffer = " + maxSessionBuffer + " is reserved in full ("
                    + reservation + " per stream); raise maxSessionBuffer or lower streamWindow";
        }
        if (!budget.tryReserve(held, reservation)) {
            return "the shared memory budget cannot hold one more stream (" + budget.used() + " of " + budget.capacity()
                    + " bytes reserved, this session holds " + held + "): raise it (" + MemoryBudget.PROPERTY
                    + " or SmuxConfig.memoryBudget) or close streams";
        }
        held += reservation;
        return null;
    }

    /** @return what a version 2 stream reserves when it is admitted (0 in version 1) */
    long streamReservation() {
        return windowed ? reservation : 0;
    }

    /**
     * A stream the engine forgets while the session runs: its reservation goes back (version 2).
     *
     * @param reserved what the stream holds now (its window may have grown since admission)
     */
    void streamForgotten(long reserved) {
        if (windowed && !ended) {
            give(reserved);
        }
    }

    /**
     * Reserves {@code bytes} more for a stream whose window grows, if both budgets allow. A window
     * is elastic (it shrinks again when memory is tight), so it may use the shared budget beyond
     * the fair share while that is at most three quarters used; within the session, growth stops
     * at three quarters of {@code maxSessionBuffer}, so that new streams still find room.
     *
     * @return whether it was reserved
     */
    boolean tryReserve(long bytes) {
        if (ended || held + bytes > maxSessionBuffer / 4 * 3 || !budget.tryReserveElastic(held, bytes)) {
            return false;
        }
        held += bytes;
        return true;
    }

    /** Gives back {@code bytes} a stream no longer needs (its window shrank). */
    void release(long bytes) {
        if (!ended) {
            give(bytes);
        }
    }

    /** @return whether memory is tight: the session's or the shared budget is three quarters used */
    boolean tight() {
        return held > maxSessionBuffer / 4 * 3 || budget.used() > budget.capacity() / 4 * 3;
    }

    // ---------------------------------------------------------------- version 1 room

    /**
     * Version 1: whether one more whole frame fits, with {@code buffered} bytes unread. Cheap;
     * {@link #makeRoom} is what asks the budgets for more.
     */
    boolean hasRoomForFrame(long buffered) {
        return buffered < maxSessionBuffer && buffered + FRAME_ROOM <= held;
    }

    /**
     * Version 1: grows the room so one more whole frame fits, if the budgets allow; gives back what
     * is no longer needed. Call before a frame and after the application read.
     *
     * @param buffered bytes unread now
     */
    void makeRoom(long buffered) {
        if (windowed || ended) {
            return;
        }
        long need = buffered + FRAME_ROOM;
        if (need > held && buffered < maxSessionBuffer) {
            long ceiling = maxSessionBuffer + FRAME_ROOM; // a frame may start just below maxSessionBuffer
            long want = Math.min(ceiling, Math.max(need, held + ROOM_STEP));
            if (!budget.tryReserve(held, want - held)) {
                want = need; // a whole step is too much: ask for exactly one frame's room
                if (!budget.tryReserve(held, want - held)) {
                    return;
                }
            }
            held = want;
        } else if (held - need > 2 * ROOM_STEP) {
            give(held - (need + ROOM_STEP));
        }
    }

    // ---------------------------------------------------------------- the end

    /**
     * The session is over: no byte can arrive any more, so all but what is still unread goes back.
     *
     * @param buffered bytes still unread (returned later through {@link #bufferFreed})
     */
    void sessionEnded(long buffered) {
        if (ended) {
            return;
        }
        ended = true;
        give(held - buffered);
    }

    /** After the end: {@code n} unread bytes were read or dropped. */
    void bufferFreed(long n) {
        if (ended && n > 0) {
            give(n);
        }
    }

    private void give(long n) {
        n = Math.min(n, held);
        if (n > 0) {
            held -= n;
            budget.release(n);
        }
    }

    // ---------------------------------------------------------------- stats

    /** @return what this session holds of its budgets now */
    long held() {
        return held;
    }

    MemoryBudget budget() {
        return budget;
    }

    long maxSessionBuffer() {
        return maxSessionBuffer;
    }

    int maxStreams() {
        return maxStreams;
    }

    /** Test hook: see {@link SmuxEngine#skipStreamIdsForTest}. */
    void skipStreamIdsForTest(long lastId) {
        if ((lastId & 1) != (client ? 1 : 0) || lastId < lastStreamId || lastId > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("not a later id of this side: " + lastId);
        }
        lastStreamId = lastId;
    }
}
