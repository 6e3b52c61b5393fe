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
 *   <li>Version 2, the first streams: each reserves {@code max(window, 256 KiB)}, the most its
 *       peer may send before it hears from us (xtaci's initial window guess) or after (our
 *       window), while the session's reservations stay within {@code maxSessionBuffer} and the
 *       shared budget grants them (as before issue 20). These streams are <em>backed</em>:
 *       whatever their peer sends fits, and they are never shed. The reservation is returned when
 *       the engine forgets the stream.</li>
 *   <li>Version 2, the streams beyond: admitted <em>on credit</em> (up to {@code maxStreams}).
 *       The session takes room for what they actually buffer from the shared budget, in steps, as
 *       their bytes arrive, and gives it back as they are read. Their windows do not grow: after
 *       the first 256 KiB (xtaci's guess, which no receiver can take back) each advertises its
 *       share of {@code maxSessionBuffer} ({@link #creditWindow}). When the shared budget refuses
 *       room for a frame, the memory is truly spent: the credit streams that hold the most are shed
 *       (FIN after a window of 0 to the peer, an error to the application) until it fits. The
 *       engine never stops reading the connection in version 2, so window updates always get
 *       through.</li>
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
    /** Version 2: what backed streams hold (their reservations, windows grown since included). */
    private long backed;
    /** Version 2: the room held for what credit streams buffer (part of {@link #held}). */
    private long creditRoom;
    private int creditStreams;

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

    /** What {@link #admit} granted a stream (version 2). */
    enum Grant {
        /** Its reservation is held: whatever its peer may send fits. */
        BACKED,
        /** On credit: its bytes take the session's credit room, and it may be shed. */
        CREDIT,
        /** Version 1: the session's room covers every stream. */
        SESSION
    }

    /** Why the last {@link #admit} refused, or null. */
    private String refusal;

    /**
     * Admits a stream this side opens and returns its id ({@link #lastGrant} says how).
     *
     * @param open streams open now
     * @throws LimitExceededException if the ids or maxStreams are used up
     */
    int openLocal(int open) throws LimitExceededException {
        if (lastStreamId + 2 > 0xFFFF_FFFFL) {
            throw new LimitExceededException("stream ids of this session are used up (the last was "
                    + lastStreamId + "): start a new session");
        }
        Grant g = admit(open);
        if (g == null) {
            throw new LimitExceededException("cannot open a stream: " + refusal);
        }
        lastGrant = g;
        lastStreamId += 2;
        return (int) lastStreamId;
    }

    private Grant lastGrant;

    /** @return how the last admitted stream was admitted */
    Grant lastGrant() {
        return lastGrant;
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
        Grant g = admit(open);
        lastGrant = g;
        return g == null ? refusal : null;
    }

    private Grant admit(int open) {
        if (ended) {
            return refuse("the session is over");
        }
        if (open >= maxStreams) {
            return refuse("the session holds maxStreams = " + maxStreams + " streams; close some or raise maxStreams");
        }
        if (!windowed) {
            return Grant.SESSION;
        }
        if (backed + reservation <= maxSessionBuffer && budget.tryReserve(held, reservation)) {
            held += reservation;
            backed += reservation;
            return Grant.BACKED;
        }
        creditStreams++;
        return Grant.CREDIT;
    }

    private Grant refuse(String why) {
        refusal = why;
        return null;
    }

    /** @return what a backed version 2 stream reserves when it is admitted */
    long streamReservation() {
        return reservation;
    }

    /**
     * A stream the engine forgets while the session runs: its reservation goes back (a backed
     * stream), or its place among the credit streams (with all the credit room once none is left).
     *
     * @param reserved what the stream holds now (its window may have grown since admission)
     * @param credit whether it was admitted on credit
     * @param creditBuffered what the credit streams still buffer, this one's bytes already dropped
     */
    void streamForgotten(long reserved, boolean credit, long creditBuffered) {
        if (!windowed || ended) {
            return;
        }
        if (credit) {
            creditStreams--;
            creditRead(creditBuffered);
        } else {
            backed -= reserved;
            give(reserved);
        }
    }

    /** The smallest window a credit stream advertises (unless its configured window is smaller). */
    static final int MIN_CREDIT_WINDOW = 16 * 1024;

    /**
     * The window a credit stream's UPD advertises: its share of {@code maxSessionBuffer}, so that
     * once the first 256 KiB (xtaci's guess) are read, the credit streams together are granted no
     * more than that much again; at least 16 KiB, at most its window.
     *
     * @param window the stream's configured first window
     */
    int creditWindow(int window) {
        long share = maxSessionBuffer / Math.max(1, creditStreams);
        return (int) Math.max(Math.min(window, MIN_CREDIT_WINDOW), Math.min(window, share));
    }

    /**
     * Version 2: makes room for {@code n} more bytes of credit streams, taking it from the shared
     * budget in steps if needed.
     *
     * @param creditBuffered bytes the credit streams buffer now
     * @return false if the shared budget has no room for them: the memory is truly spent
     */
    boolean creditRoomFor(long creditBuffered, int n) {
        long need = creditBuffered + n;
        if (need <= creditRoom) {
            return true;
        }
        if (ended) {
            return false;
        }
        long want = Math.max(need, creditRoom + ROOM_STEP);
        if (!budget.tryReserve(held, want - creditRoom)) {
            want = need;
            if (!budget.tryReserve(held, want - creditRoom)) {
                return false;
            }
        }
        held += want - creditRoom;
        creditRoom = want;
        return true;
    }

    /**
     * Version 2: credit streams' bytes were read or dropped; room no longer needed goes back (in
     * steps, so that most reads touch no shared counter; all of it once no credit stream is left).
     *
     * @param creditBuffered bytes the credit streams buffer now
     */
    void creditRead(long creditBuffered) {
        if (ended) {
            return;
        }
        long keep = creditStreams == 0 ? creditBuffered : creditBuffered + ROOM_STEP;
        if (creditStreams == 0 || creditRoom - creditBuffered > 2 * ROOM_STEP) {
            long n = Math.max(0, creditRoom - keep);
            creditRoom -= n;
            give(n);
        }
    }

    /**
     * Reserves {@code bytes} more for a stream whose window grows, if both budgets allow. A window
     * is elastic (it shrinks again when memory is tight), so it may use the shared budget beyond
     * the fair share while that is at most three quarters used; within the session, growth stops
     * when the reservations reach three quarters of {@code maxSessionBuffer}, so that new streams
     * still find room.
     *
     * @return whether it was reserved
     */
    boolean tryReserve(long bytes) {
        if (ended || backed + bytes > maxSessionBuffer / 4 * 3 || !budget.tryReserveElastic(held, bytes)) {
            return false;
        }
        held += bytes;
        backed += bytes;
        return true;
    }

    /** Gives back {@code bytes} a stream no longer needs (its window shrank). */
    void release(long bytes) {
        if (!ended) {
            backed -= Math.min(bytes, backed);
            give(bytes);
        }
    }

    /** @return whether memory is tight: the session's reservations or the shared budget three quarters used */
    boolean tight() {
        return backed > maxSessionBuffer / 4 * 3 || budget.used() > budget.capacity() / 4 * 3;
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

    /** @return the room held for what the credit streams buffer (version 2) */
    long creditRoom() {
        return creditRoom;
    }

    /** @return streams admitted on credit and open now (version 2) */
    int creditStreams() {
        return creditStreams;
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
