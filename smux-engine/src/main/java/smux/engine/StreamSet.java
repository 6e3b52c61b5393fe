package smux.engine;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import smux.api.LimitExceededException;
import smux.api.StreamClosedException;
import smux.api.ProtocolException;
import smux.api.ProtocolException.Violation;
import smux.api.SmuxConfig;

/**
 * The engine's streams and the rules that move them: which are open, which wait to be accepted,
 * what each has received and its application consumed, and when each sends its UPD and its FIN.
 *
 * <p>Theory of operation. A stream is born with its two sides ({@link StreamSides.Factory}),
 * opened here or by the peer's SYN, and lives in the table until its application closes it. Its
 * received bytes go straight to its inbound; its application's reads come back in batches
 * ({@link StreamView#consumed}): the stream asks its inbound to report when the total reaches the
 * next UPD (version 2) or the next step of the memory accounting (version 1), so the count of
 * unread bytes here ({@link #bufferedBytes}) may be behind the application by at most that much.
 * Where the lag would matter, the rules ask the inbound directly ({@link #catchUp}): a UPD about
 * to leave carries the latest count, and a version 1 session that stops reading the connection
 * asks every stream at once and then for every read ({@link #pauseInput}). Outgoing bytes wait in the
 * stream's outbound until the scheduler pulls them; its FIN is queued once nothing of them is
 * pending, so it always follows the data.
 */
final class StreamSet implements EngineStream.Rules {
    /**
     * A version 1 stream reports what its application read after this many bytes (the count of
     * the session's unread bytes lags by at most this much per stream; when input stops, every
     * stream is asked at once and then for every read, see {@link #pauseInput}).
     */
    static final long V1_REPORT_STEP = 64 * 1024;

    private final SessionState session;
    private final int version;
    private final int window;
    private final boolean windowTuned;
    private final int maxWindow;
    /** Null only when the session could not start (the engine is closed from birth). */
    private final Admission admission;
    private final SendScheduler scheduler;
    private final StreamSides.Factory sides;
    private final StreamTable table = new StreamTable();
    private final ArrayDeque<EngineStream> backlog = new ArrayDeque<>();
    /** Received bytes not yet reported consumed, all streams together. */
    private long buffered;
    /** Version 1: input stopped and every stream was asked to report each read. */
    private boolean inputPaused;
    private long streamsOpened;
    /** Received bytes of streams admitted on credit not yet reported consumed (part of {@link #buffered}). */
    private long creditBuffered;
    private long streamsShed;

    StreamSet(SessionState session, SmuxConfig config, Admission admission, SendScheduler scheduler,
              StreamSides.Factory sides) {
        this.session = session;
        this.version = config.version();
        this.window = config.initialStreamWindow();
        this.windowTuned = config.windowTuned() && version == 2;
        this.maxWindow = config.streamWindow();
        this.admission = admission;
        this.scheduler = scheduler;
        this.sides = sides;
    }

    // ---------------------------------------------------------------- birth

    /** Opens a stream here: admits it and queues its SYN. @return its id */
    int openLocal() throws LimitExceededException {
        int id = admission.openLocal(table.size());
        admit(id);
        scheduler.queueControl(Command.SYN, id, 0, 0, null);
        streamsOpened++;
        return id;
    }

    /**
     * The peer opened {@code id}: admits the stream into the accept backlog, or says why not.
     *
     * @return null if admitted, else why it is refused
     * @throws ProtocolException if the id is not one the peer may open
     */
    String admitPeer(int id, boolean client) throws ProtocolException {
        if (!admission.isPeerId(id)) {
            throw new ProtocolException(Violation.BAD_STREAM_ID, "SYN for stream " + Integer.toUnsignedString(id)
                    + ": the " + (client ? "server" : "client") + " opens " + (client ? "even" : "odd")
                    + " ids other than 0");
        }
        // A SYN for an id we still hold (the peer reuses it, typically right after our FIN and
        // before our application closed the stream) is refused with FIN: the peer's new stream
        // ends at once instead of waiting forever for an answer (xtaci ignores it). Once the
        // application has closed the old stream, the same SYN opens a new stream.
        String refusal = table.get(id) != null
                ? "stream " + Integer.toUnsignedString(id) + " is still open here"
                : admission.admitPeer(table.size(), backlog.size());
        if (refusal == null) {
            EngineStream s = admit(id);
            s.inBacklog = true;
            backlog.add(s);
        }
        return refusal;
    }

    /** Adds a stream whose memory {@link Admission} has reserved, with the sides its factory makes. */
    private EngineStream admit(int id) {
        EngineStream s = new EngineStream(id, version == 2, window, sides.create(id), this);
        Admission.Grant grant = admission.lastGrant();
        s.onCredit = grant == Admission.Grant.CREDIT;
        s.reserved = grant == Admission.Grant.BACKED ? admission.streamReservation() : 0;
        if (windowTuned && !s.onCredit) {
            s.flow.updateEveryQuarter(); // marks it tuned; its tuner is made by its first UPD, before which it has nothing to measure
        }
        table.put(s);
        s.in().requestConsumption(nextReport(s));
        return s;
    }

    /** @return the oldest stream the peer opened, taken from the backlog, or 0 if none waits (0 is never a stream) */
    int accept() {
        EngineStream s = backlog.poll();
        if (s == null) {
            return 0;
        }
        s.inBacklog = false;
        return s.id;
    }

    EngineStream get(int id) {
        return table.get(id);
    }

    // ---------------------------------------------------------------- frames from the peer

    /**
     * A PSH header: checks its length against the stream's window.
     *
     * @return the stream its payload goes to, or null if it is read and dropped (unknown, closed,
     *     or after the peer's FIN)
     */
    EngineStream dataTarget(int id, int length) throws ProtocolException {
        EngineStream s = table.get(id);
        if (s == null || !s.state.peerMayWrite()) {
            return null;
        }
        s.peerSpoke = true;
        s.flow.onReceived(id, length);
        if (s.tuner != null) {
            s.tuner.onReceived(s.flow.received(), session.now);
        }
        if (s.onCredit && !admission.creditRoomFor(creditBuffered, length) && !shedFor(s, length)) {
            return null; // shed: its payload is read and dropped
        }
        return s;
    }

    /**
     * A credit stream's frame finds no room (the shared memory budget refused more): sheds the
     * credit streams that hold the most until it fits, or until {@code s} itself is shed.
     *
     * @return whether {@code s} is still open (its frame now fits)
     */
    private boolean shedFor(EngineStream s, int length) {
        table.forEach(t -> {
            if (t.onCredit) {
                // What their applications read is room already. Counted as a report is (a UPD queued if one is
                // due), not by catchUp: a stream caught up here without its UPD would find its next report due
                // at once with nothing new read, and post it again and again (a livelock under the pump's lock).
                long n = t.in().consumed() - t.flow.consumed();
                if (n > 0) {
                    onConsumed(t, n);
                }
            }
        });
        while (!admission.creditRoomFor(creditBuffered, length)) {
            EngineStream victim = largestCreditStream();
            if (victim == null || victim == s || victim.unconsumed() <= s.unconsumed()) {
                shed(s); // it holds the most (or nothing else holds anything): it goes
                return false;
            }
            shed(victim);
        }
        return true;
    }

    private EngineStream largestCreditStream() {
        EngineStream[] best = new EngineStream[1];
        table.forEach(t -> {
            if (t.onCredit && t.unconsumed() > 0 && (best[0] == null || t.unconsumed() > best[0].unconsumed())) {
                best[0] = t;
            }
        });
        return best[0];
    }

    /** Drops a credit stream whose memory is needed: UPD{consumed, 0} and FIN to the peer, an error to the application. */
    private void shed(EngineStream s) {
        streamsShed++;
        long unread = s.unconsumed();
        smux.api.MemoryBudget budget = admission.budget();
        s.sides().reset(new LimitExceededException("stream " + Integer.toUnsignedString(s.id) + " was shed: the shared"
                + " memory budget had no room for more of what its session buffers on credit (" + budget.used() + " of "
                + budget.capacity() + " bytes in use, this session holds " + admission.held() + "); it held " + unread + " unread bytes, the most of its"
                + " session's streams beyond maxSessionBuffer = " + admission.maxSessionBuffer() + ". Read streams promptly, or"
                + " raise the budget (" + smux.api.MemoryBudget.PROPERTY + ", or a larger heap)"), true);
        scheduler.remove(s);
        if (session.isOpen() && s.state.peerMayWrite()) {
            scheduler.queueControl(Command.UPD | SendScheduler.PEER_DRIVEN, s.id, (int) s.appended, 0, null);
        }
        requestFin(s);
        queueFin(s);
        forget(s);
    }

    /**
     * Hands {@code n} payload bytes to the stream's inbound.
     *
     * @return true if input stops here (version 1: the budget is spent)
     */
    boolean append(EngineStream s, ByteBuffer src, int n) {
        s.in().append(src, n);
        s.appended += n;
        buffered += n;
        if (s.onCredit) {
            creditBuffered += n;
        }
        if (version == 1 && !admission.hasRoomForFrame(buffered)) {
            admission.makeRoom(buffered); // grow now: wantsInput() is what the driver asks next
            if (!wantsInput()) {
                pauseInput();
                return true;
            }
        }
        return false;
    }

    /** The peer sent FIN on {@code id}: after what was appended, the stream ends. */
    void finished(int id) {
        EngineStream s = table.get(id);
        if (s == null || !s.state.peerMayWrite()) {
            return; // unknown, or a duplicate FIN
        }
        s.state = s.state.next(StreamState.Input.RECV_FIN);
        if (version == 2 && s.peerWindowZero) {
            // UPD{consumed, 0} then FIN: the peer reset the stream (it shed or refused it); reads end in an error
            s.sides().reset(new StreamClosedException("stream " + Integer.toUnsignedString(id) + " was reset by the peer:"
                    + " it granted no more window and closed the stream (the peer shed or refused it, a limit of its own)"),
                    false);
            requestFin(s);
            scheduler.remove(s);
            finIfDue(s);
            return;
        }
        s.in().finish();
        writerRefused(s);
    }

    /** A stream with data pending has spent its window: if the peer closed it without a word, it refused it. */
    void windowSpent(EngineStream s) {
        if (!s.state.peerMayWrite()) {
            writerRefused(s);
        }
    }

    /**
     * A stream we opened, whose peer sent FIN before it sent anything (no data, no window update)
     * and whose window is spent while a write waits: the peer refused it (a Go peer never reads it;
     * this library's refusals say so with a window of 0 too). The write fails instead of waiting
     * forever for window that will not come.
     */
    private void writerRefused(EngineStream s) {
        if (version != 2 || s.peerSpoke || admission.isPeerId(s.id) || s.state.peerMayWrite()
                || s.out().pending() == 0 || s.flow.sendAllowance() > 0 || !s.state.canWrite()) {
            return;
        }
        s.sides().reset(new StreamClosedException("cannot write to stream " + Integer.toUnsignedString(s.id)
                + ": the peer closed it (FIN) before reading or sending anything, and its window is spent: the peer"
                + " refused the stream (a limit of its own: maxStreams, memory or its accept backlog)"), false);
        requestFin(s);
        scheduler.remove(s);
        finIfDue(s);
    }

    /** A UPD from the peer. */
    void peerUpdate(int id, int consumed, int peerWindow) throws ProtocolException {
        EngineStream s = table.get(id);
        if (s == null) {
            return; // a window update for a stream we closed: read and dropped, as xtaci does
        }
        s.peerWindowZero = peerWindow == 0;
        if (!s.peerWindowZero) {
            s.peerSpoke = true;
        }
        s.flow.onPeerUpdate(id, consumed, peerWindow);
        scheduler.offer(s);
    }

    /** Asked before each frame: version 1 grows its room if it can. @return whether to decode it */
    boolean readyForFrame() {
        if (version == 1 && !wantsInput()) {
            admission.makeRoom(buffered);
        }
        return wantsInput();
    }

    /** @return whether the engine takes input: the session is open and (version 1) the budget has room */
    boolean wantsInput() {
        return session.isOpen() && (version == 2 || admission.hasRoomForFrame(buffered));
    }

    // ---------------------------------------------------------------- the application's news (StreamView)

    @Override
    public void consumed(EngineStream s, long total) {
        if (s.forgotten) {
            return;
        }
        long n = total - s.flow.consumed();
        if (n > 0) {
            onConsumed(s, n);
        }
        s.in().requestConsumption(nextReport(s));
    }

    @Override
    public void outboundChanged(EngineStream s) {
        if (s.forgotten || !session.isOpen()) {
            return;
        }
        if (s.out().writeClosed()) {
            requestFin(s);
        }
        if (s.out().pending() > 0 && !s.state.peerMayWrite() && s.flow.sendAllowance() == 0) {
            writerRefused(s); // a write posted after the peer's refusal
        }
        if (s.out().pending() > 0) {
            scheduler.offer(s);
        } else {
            scheduler.remove(s);
            finIfDue(s);
        }
    }

    @Override
    public void close(EngineStream s) {
        if (s.forgotten) {
            return;
        }
        if (session.isOpen()) {
            requestFin(s);
            queueFin(s); // after whatever was committed; nothing more will be
        }
        forget(s);
    }

    // ---------------------------------------------------------------- what the scheduler reports

    /**
     * The window a UPD of {@code s} carries. A tuned window first asks its {@link WindowTuner},
     * then reserves what the new window needs before it is advertised (the peer may then have up
     * to {@code max(old right edge, consumed + window) - consumed} bytes unread or in flight), or
     * keeps what it can afford; memory a smaller window no longer needs goes back.
     */
    int windowForUpdate(EngineStream s) {
        catchUp(s); // the UPD carries the count at the moment it leaves, not at the last report
        if (s.onCredit) {
            return admission.creditWindow(window);
        }
        if (!s.flow.updatesEveryQuarter()) {
            return s.flow.window();
        }
        if (s.tuner == null) {
            s.tuner = new WindowTuner(window, maxWindow);
        }
        long consumed = s.flow.consumed();
        long edge = s.flow.receiveLimit();
        int next = s.tuner.nextWindow(s.flow.window(), s.flow.received(), consumed, edge, admission.tight(), session.now);
        long needed = Math.max(edge - consumed, next);
        if (needed > s.reserved) {
            if (admission.tryReserve(needed - s.reserved)) {
                s.reserved = needed;
            } else {
                next = (int) Math.max(window, Math.min(next, s.reserved)); // what is reserved already
                needed = Math.max(edge - consumed, next);
            }
        }
        if (needed < s.reserved) {
            admission.release(s.reserved - needed);
            s.reserved = needed;
        }
        return next;
    }

    /** A UPD of {@code s} left (or was dropped): asks for the next report. */
    void updateSent(EngineStream s) {
        s.in().requestConsumption(nextReport(s));
    }

    /** Queues the FIN that was requested, once nothing of the stream's data is pending. */
    void finIfDue(EngineStream s) {
        if (session.isOpen() && !s.state.canWrite() && s.out().pending() == 0) {
            queueFin(s);
        }
    }

    // ---------------------------------------------------------------- the session's end

    /**
     * A local close: FIN for every stream that did not send one, after what was committed (the
     * owners end their writes in progress), unread data dropped, the backlog given up. Call while
     * the session is still open.
     */
    void closeAll() {
        table.forEach(s -> {
            scheduler.remove(s);
            requestFin(s);
            queueFin(s);
            dropUnconsumed(s);
        });
        backlog.clear();
    }

    /** A failed session kept its backlog for the application; closing it gives them up. */
    void forgetBacklog() {
        for (EngineStream s; (s = backlog.peek()) != null; ) {
            forget(s);
        }
    }

    /** The session is over: every byte of budget not still buffered goes back. */
    void sessionEnded() {
        if (admission != null) { // null only when the session could not start
            admission.sessionEnded(buffered);
        }
    }

    // ---------------------------------------------------------------- figures

    int size() {
        return table.size();
    }

    int backlogSize() {
        return backlog.size();
    }

    long bufferedBytes() {
        return buffered;
    }

    long reservedBytes() {
        return admission == null ? 0 : admission.held();
    }

    long streamsOpened() {
        return streamsOpened;
    }

    /** @return credit streams shed so far (version 2) */
    long streamsShed() {
        return streamsShed;
    }

    /** @return streams open now that were admitted on credit (version 2) */
    int creditStreams() {
        return admission == null ? 0 : admission.creditStreams();
    }

    /** @return whether this side has opened no stream yet */
    boolean noneOpened() {
        return admission.noneOpened();
    }

    void skipStreamIdsForTest(long lastId) {
        admission.skipStreamIdsForTest(lastId);
    }

    // ---------------------------------------------------------------- internals

    private void forget(EngineStream s) {
        scheduler.remove(s);
        dropUnconsumed(s);
        admission.streamForgotten(s.reserved, s.onCredit, creditBuffered);
        s.reserved = 0;
        if (s.inBacklog) {
            backlog.remove(s);
            s.inBacklog = false;
        }
        s.forgotten = true;
        s.noteSendWait(session.now); // a forgotten stream waits for nothing
        table.remove(s.id);
    }

    /** Counts a stream's unread bytes as gone (its owner drops them from its inbound). */
    private void dropUnconsumed(EngineStream s) {
        long n = s.unconsumed();
        s.flow.dropUnconsumed(s.appended);
        unbuffer(s, n);
    }

    /** {@code n} unread bytes of {@code s} were read or dropped. */
    private void unbuffer(EngineStream s, long n) {
        buffered -= n;
        if (s.onCredit) {
            creditBuffered -= n;
        }
        admission.bufferFreed(n);
    }

    /** The application read {@code n} more bytes of a stream. */
    private void onConsumed(EngineStream s, long n) {
        unbuffer(s, n);
        if (s.onCredit) {
            admission.creditRead(creditBuffered); // room no longer needed goes back, in steps
        }
        if (version == 1) {
            admission.makeRoom(buffered);
            if (inputPaused && wantsInput()) {
                inputPaused = false; // streams go back to reporting in steps, at their next report
            }
        }
        if (s.flow.onConsumed(n) && !s.updateQueued && s.state.peerMayWrite() && session.isOpen()) {
            s.updateQueued = true;
            scheduler.queueControl(Command.UPD, s.id, 0, 0, s);
        }
    }

    /**
     * The total of consumed bytes at which a stream should report next: in version 2 when its
     * next UPD is due (asked again when a queued UPD leaves); otherwise, or once no UPD will be
     * sent, in steps for the memory accounting (every read while version 1 input is paused).
     */
    private long nextReport(EngineStream s) {
        if (session.phase == SessionState.Phase.CLOSING) {
            return Long.MAX_VALUE; // a local close dropped every unread byte: nothing to account
        }
        if (version == 2 && session.isOpen() && s.state.peerMayWrite()) {
            return s.updateQueued ? Long.MAX_VALUE : s.flow.nextUpdateAt();
        }
        return s.flow.consumed() + (inputPaused ? 1 : V1_REPORT_STEP);
    }

    /**
     * Version 1: input just stopped (the budget is spent). Streams report in steps, so the count
     * of unread bytes may be behind what their applications have read: ask them all now, and for
     * every read until input goes on, or a reader that has read everything would wait forever for
     * bytes the engine no longer reads.
     */
    private void pauseInput() {
        if (inputPaused) {
            return;
        }
        inputPaused = true;
        table.forEach(s -> {
            if (s.unconsumed() > 0) {
                catchUp(s);
                s.in().requestConsumption(nextReport(s));
            }
        });
        admission.makeRoom(buffered);
        if (wantsInput()) {
            inputPaused = false;
        }
    }

    /**
     * Counts what the stream's application has read since its last report, asking its inbound
     * directly: for a UPD about to leave, and when version 1 input stops. (Its next report then
     * finds nothing new.)
     */
    private void catchUp(EngineStream s) {
        long n = s.in().consumed() - s.flow.consumed();
        if (n > 0) {
            unbuffer(s, n);
            s.flow.onConsumed(n);
        }
    }

    /** The application finished writing: the state changes at once; the FIN leaves after the data. */
    private void requestFin(EngineStream s) {
        if (s.state.canWrite()) {
            s.state = s.state.next(StreamState.Input.SEND_FIN);
        }
    }

    /** Queues the stream's FIN, once. */
    private void queueFin(EngineStream s) {
        if (!s.finQueued && session.phase != SessionState.Phase.CLOSED) {
            s.finQueued = true;
            scheduler.queueControl(Command.FIN, s.id, 0, 0, null);
        }
    }
}
