package smux.it.interop;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import smux.api.Session;
import smux.api.SmuxStream;
import smux.api.StreamClosedException;
import smux.it.interop.DiffPlan.End;
import smux.it.interop.DiffPlan.Role;
import smux.it.interop.DiffPlan.SidePlan;
import smux.it.interop.DiffPlan.StreamPlan;
import smux.it.interop.DiffPlan.Write;

/**
 * Runs one role's half of a {@link DiffPlan} on a Java session, through {@code smux.api} only: the Java
 * twin of the Go peer's plan mode ({@code interop/plan.go}), reporting the same fields ({@link Side}).
 *
 * <p>The role opens its streams in plan order from one thread (so their ids are known in advance: xtaci's
 * and ours, 3, 5, 7... for a client and 2, 4, 6... for a server), accepts the peer's, and runs each side on
 * its own thread: a reader that starts after its delay and checks every byte against the peer's content,
 * the writes, then the end.
 */
final class PlanRunner {

    /**
     * One side of one stream as it ran. {@code readEnd}: "eof" (the peer's FIN), "closed" (this side closed
     * first) or "error: ..."; {@code probe}: "", "refused" or "accepted"; {@code err}: every way the side
     * departed from the plan, "" if none.
     */
    record Side(int index, long id, String role, boolean opener, long bytesIn, String sha256In, long bytesOut,
                String sha256Out, String readEnd, String probe, String err) {

        static Side of(Event e) {
            return new Side((int) e.num("index"), e.num("id"), e.str("role"), Boolean.parseBoolean(e.str("opener")),
                    e.num("bytesIn"), e.str("sha256In"), e.num("bytesOut"), e.str("sha256Out"), e.str("readEnd"),
                    e.str("probe"), e.str("err"));
        }
    }

    private final DiffPlan plan;
    private final Role role;
    private final Session session;
    private final Duration timeout;
    private final ExecutorService pool;
    private final LinkedBlockingQueue<Side> done = new LinkedBlockingQueue<>();

    private PlanRunner(DiffPlan plan, Role role, Session session, Duration timeout) {
        this.plan = plan;
        this.role = role;
        this.session = session;
        this.timeout = timeout;
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "plan-" + role.json() + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Runs {@code role}'s half of {@code plan} on {@code session} and returns every side, once all are done.
     * Streams, reads and writes each give up after {@code timeout}; a plan that does not finish within it
     * fails with what is still running.
     */
    static List<Side> run(DiffPlan plan, Role role, Session session, Duration timeout) {
        PlanRunner runner = new PlanRunner(plan, role, session, timeout);
        try {
            return runner.runAll();
        } finally {
            runner.pool.shutdownNow();
        }
    }

    private List<Side> runAll() {
        List<StreamPlan> mine = new ArrayList<>();
        Map<Long, StreamPlan> theirs = new HashMap<>();
        for (StreamPlan s : plan.streams()) {
            if (s.opener() == role) {
                mine.add(s);
            } else {
                theirs.put(expectedId(s.opener(), theirs.size()), s);
            }
        }
        int accepts = theirs.size();
        pool.execute(() -> openAll(mine));
        pool.execute(() -> acceptAll(theirs, accepts));

        List<Side> sides = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos() + TimeUnit.SECONDS.toNanos(5);
        while (sides.size() < plan.streams().size()) {
            Side s;
            try {
                s = done.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while running the plan", e);
            }
            if (s == null) {
                throw new AssertionError("Java " + role.json() + ": only " + sides.size() + " of "
                        + plan.streams().size() + " streams finished within " + timeout.toSeconds() + " s: " + sides);
            }
            sides.add(s);
        }
        return sides;
    }

    /** The id of the k-th stream {@code opener} opens: xtaci (and this library) increment before use. */
    static long expectedId(Role opener, int k) {
        return opener == Role.CLIENT ? 3 + 2L * k : 2 + 2L * k;
    }

    private void openAll(List<StreamPlan> mine) {
        for (int k = 0; k < mine.size(); k++) {
            StreamPlan s = mine.get(k);
            pause(s.openDelayMicros());
            SmuxStream stream;
            try {
                stream = session.openStream();
            } catch (IOException | RuntimeException e) {
                for (StreamPlan rest : mine.subList(k, mine.size())) {
                    done.add(failed(rest.index(), 0, true, "open: " + e));
                }
                return;
            }
            long id = Integer.toUnsignedLong(stream.id());
            String idErr = id == expectedId(role, k) ? "" : "opened with id " + id + ", the plan expects " + expectedId(role, k);
            pool.execute(() -> done.add(withError(runSide(stream, s, true), idErr)));
        }
    }

    private void acceptAll(Map<Long, StreamPlan> theirs, int count) {
        for (int n = 0; n < count; n++) {
            SmuxStream stream;
            try {
                stream = session.acceptStream(timeout);
            } catch (IOException | RuntimeException e) {
                for (Map.Entry<Long, StreamPlan> left : theirs.entrySet()) {
                    done.add(failed(left.getValue().index(), left.getKey(), false, "accept: " + e));
                }
                return;
            }
            long id = Integer.toUnsignedLong(stream.id());
            StreamPlan s = theirs.remove(id);
            if (s == null) {
                stream.close();
                done.add(failed(-1, id, false, "accepted stream " + id + ", which the plan does not open"));
                n--;
                continue;
            }
            pool.execute(() -> done.add(runSide(stream, s, false)));
        }
    }

    private Side failed(int index, long id, boolean opener, String err) {
        return new Side(index, id, role.json(), opener, 0, "", 0, "", "", "", err);
    }

    private static Side withError(Side s, String err) {
        if (err.isEmpty()) {
            return s;
        }
        return new Side(s.index(), s.id(), s.role(), s.opener(), s.bytesIn(), s.sha256In(), s.bytesOut(), s.sha256Out(),
                s.readEnd(), s.probe(), s.err().isEmpty() ? err : err + "; " + s.err());
    }

    private Side runSide(SmuxStream stream, StreamPlan s, boolean opener) {
        SidePlan mine = s.side(role);
        SidePlan peer = s.side(role.other());
        List<String> problems = new ArrayList<>();
        stream.setReadTimeout(timeout);
        stream.setWriteTimeout(timeout);
        Reader reader = new Reader(stream, Content.mixed(peer.content()), peer.total(), mine.readDelayMicros(),
                mine.readSize() > 0 ? mine.readSize() : JavaModes.IO_BUFFER);
        pool.execute(reader);
        if (s.waitFirst() && !opener) {
            reader.first.await();
        }
        if (mine.afterPeerFin()) {
            reader.done.await();
        }

        Content content = Content.mixed(mine.content());
        Content.Tally out = new Content.Tally();
        for (int i = 0; i < mine.writes().size(); i++) {
            Write w = mine.writes().get(i);
            pause(w.pauseMicros());
            byte[] chunk = new byte[w.size()];
            content.fill(out.count(), chunk, 0, chunk.length);
            ByteBuffer b = ByteBuffer.wrap(chunk);
            try {
                stream.write(b);
            } catch (IOException | RuntimeException e) {
                problems.add("write " + i + " (" + w.size() + " bytes) failed after " + b.position() + ": " + e);
                out.add(chunk, 0, b.position());
                break;
            }
            out.add(chunk, 0, b.position());
            if (b.hasRemaining()) {
                problems.add("write " + i + ": " + b.position() + " of " + w.size() + " bytes");
                break;
            }
        }

        String probe = "";
        switch (mine.end()) {
            case HALF -> {
                try {
                    stream.closeWrite();
                } catch (IOException | RuntimeException e) {
                    problems.add("closeWrite: " + e);
                }
                probe = probe(stream, mine);
                reader.done.await();
                closeLocally(stream, reader);
            }
            case EOF_CLOSE -> {
                reader.done.await();
                closeLocally(stream, reader);
                probe = probe(stream, mine);
            }
            case CLOSE -> {
                reader.all.await();
                closeLocally(stream, reader);
                probe = probe(stream, mine);
            }
            case EARLY -> {
                closeLocally(stream, reader);
                probe = probe(stream, mine);
            }
            default -> throw new IllegalStateException("unknown end " + mine.end());
        }
        reader.done.await();

        String readEnd = reader.endDescription();
        if (reader.mismatch != null) {
            problems.add("read: " + reader.mismatch);
        }
        if (mine.end() != End.EARLY && reader.in.count() != peer.total()) {
            problems.add("read " + reader.in.count() + " bytes, the peer sends " + peer.total() + " (" + readEnd + ")");
        }
        boolean toFin = mine.end() == End.HALF || mine.end() == End.EOF_CLOSE;
        if (toFin && !readEnd.equals("eof")) {
            problems.add("reading ended with " + readEnd + ", not the peer's FIN");
        }
        if (!toFin && !readEnd.equals("eof") && !readEnd.equals("closed")) {
            problems.add("reading ended with " + readEnd);
        }
        if (probe.equals("accepted")) {
            problems.add("a write after " + mine.end().json + " was accepted");
        }
        return new Side(s.index(), Integer.toUnsignedLong(stream.id()), role.json(), opener, reader.in.count(),
                reader.in.hex(), out.count(), out.hex(), readEnd, probe, String.join("; ", problems));
    }

    private static void closeLocally(SmuxStream stream, Reader reader) {
        reader.closedLocally = true;
        stream.close();
    }

    private static String probe(SmuxStream stream, SidePlan mine) {
        if (!mine.probe()) {
            return "";
        }
        try {
            return stream.write(ByteBuffer.wrap(new byte[] {0x5A})) > 0 ? "accepted" : "refused";
        } catch (IOException | RuntimeException e) {
            return "refused";
        }
    }

    private static void pause(long micros) {
        if (micros > 0) {
            LockSupport.parkNanos(micros * 1000);
        }
    }

    /** A latch that cannot be interrupted into a wrong answer: an interrupt fails the run. */
    private static final class Latch {
        private final CountDownLatch latch = new CountDownLatch(1);

        void open() {
            latch.countDown();
        }

        void await() {
            try {
                latch.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
    }

    /** Reads one stream to its end, checking every byte against the peer's content. */
    private static final class Reader implements Runnable {
        final SmuxStream stream;
        final Content want;
        final long expected;
        final long delayMicros;
        final int readSize;
        final Content.Tally in = new Content.Tally();
        final Latch first = new Latch();
        final Latch all = new Latch();
        final Latch done = new Latch();
        volatile boolean closedLocally;
        volatile String mismatch;
        private volatile boolean eof;
        private volatile Exception failure;

        Reader(SmuxStream stream, Content want, long expected, long delayMicros, int readSize) {
            this.stream = stream;
            this.readSize = readSize;
            this.want = want;
            this.expected = expected;
            this.delayMicros = delayMicros;
            if (expected == 0) {
                first.open();
                all.open();
            }
        }

        @Override
        public void run() {
            try {
                pause(delayMicros);
                ByteBuffer buf = ByteBuffer.allocate(readSize);
                byte[] scratch = new byte[readSize];
                while (true) {
                    buf.clear();
                    int n = stream.read(buf);
                    if (n < 0) {
                        eof = true;
                        return;
                    }
                    long pos = in.count();
                    if (mismatch == null) {
                        int bad = want.firstMismatch(pos, buf.array(), 0, n, scratch);
                        if (bad >= 0) {
                            mismatch = "byte at offset " + (pos + bad) + " differs";
                        } else if (pos + n > expected) {
                            mismatch = (pos + n) + " bytes arrived, the peer sends " + expected;
                        }
                    }
                    in.add(buf.array(), 0, n);
                    if (pos == 0 && expected > 0) {
                        first.open();
                    }
                    if (pos < expected && pos + n >= expected) {
                        all.open();
                    }
                }
            } catch (IOException | RuntimeException e) {
                failure = e;
            } finally {
                first.open();
                all.open();
                done.open();
            }
        }

        String endDescription() {
            if (eof) {
                return "eof";
            }
            if (closedLocally && failure instanceof StreamClosedException) {
                return "closed";
            }
            return "error: " + failure;
        }
    }
}
