package smux.it.faults;

import eu.rekawek.toxiproxy.model.ToxicDirection;
import eu.rekawek.toxiproxy.model.toxic.Bandwidth;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.it.toxi.ToxiproxyBackend;

/**
 * Randomized partial-write stall trials: the engine behind {@link ExactTimeoutFaultTest} (a few hundred
 * trials per configuration) and {@link ExactTimeoutSoak} (thousands).
 *
 * <p>One session pair runs through a Toxiproxy proxy for the whole run (version 1: a new one every
 * {@value #V1_TRIALS_PER_CONNECTION} trials). Its client→server direction carries a
 * {@code bandwidth} toxic ("shaper", {@value #SHAPER_KBPS} KB/s) so that writes take long enough to be caught
 * in progress. The server application reads {@value #STREAMS} streams continuously ({@link StreamLog}). Each
 * trial:
 * <ol>
 *   <li>picks 1..{@value #STREAMS} streams, a message (random size) and a write deadline (50..150 ms) for each;</li>
 *   <li>starts the writes at once, and adds a second {@code bandwidth} toxic of rate 0 ("stall") on the
 *       client→server direction, either before the writes or at a random moment during them;</li>
 *   <li>removes the stall either after every write returned (plus a random hold), or at a random moment around
 *       the deadlines, so that the link resumes while deadlines fire;</li>
 *   <li>checks each write: it either completed, or threw {@link SocketTimeoutException} whose
 *       {@code bytesTransferred} n equals the buffer's position; the server then receives exactly n bytes of
 *       that message and, for {@value #QUIET_MILLIS} ms, nothing more;</li>
 *   <li>retries each timed-out write from offset n and checks that the server got exactly the message
 *       (content and SHA-256), with nothing after it.</li>
 * </ol>
 * At the end of a run the session counters agree: every payload byte the client committed reached the server.
 * Lost bytes (committed but never received) and duplicated bytes (received beyond what was committed, that is,
 * withdrawn bytes that were sent anyway) are counted; the first anomaly ends the run with its description.
 */
final class StallTrials {
    static final int STREAMS = 4;
    /** The shaper's rate: fast enough for quick trials, slow enough that writes are caught in progress. */
    static final long SHAPER_KBPS = 16_000;
    /** The stall starts within this many milliseconds of the writes (when it does not start before them). */
    static final int STALL_WITHIN_MILLIS = 20;
    /** How long "nothing more arrives" is watched after the committed bytes of a timed-out write. */
    static final long QUIET_MILLIS = 20;
    /** Version 2 runs with a window smaller than xtaci's initial guess, so the window, not only the socket, stalls writes. */
    static final int V2_WINDOW = 128 * 1024;
    /**
     * Version 1 has no window: a small client send buffer and the smallest staging buffer keep what the
     * connection absorbs during a stall (so the message sizes a trial needs, and its time) small.
     */
    static final int V1_SEND_BUFFER = 64 * 1024;
    /**
     * Version 1 trials move to a new connection this often: the kernel grows the proxy's receive buffer as a
     * connection carries more, and what it absorbs during a stall would soon exceed the message sizes.
     */
    static final int V1_TRIALS_PER_CONNECTION = 20;
    private static final long WAIT_MILLIS = 15_000;

    /** The outcome of a run. */
    static final class Tally {
        final String name;
        long trials;
        long writes;
        long completed;
        long timedOutPartial;
        long timedOutNothing;
        long stalledBeforeWrite;
        long resumedAroundDeadline;
        long bytesCommitted;
        long bytesRetried;
        long bytesLost;
        long bytesDuplicated;
        long bytesCorrupted;
        long maxLateMillis;
        long nanos;
        String anomaly;

        Tally(String name) {
            this.name = name;
        }

        void add(Tally o) {
            trials += o.trials;
            writes += o.writes;
            completed += o.completed;
            timedOutPartial += o.timedOutPartial;
            timedOutNothing += o.timedOutNothing;
            stalledBeforeWrite += o.stalledBeforeWrite;
            resumedAroundDeadline += o.resumedAroundDeadline;
            bytesCommitted += o.bytesCommitted;
            bytesRetried += o.bytesRetried;
            bytesLost += o.bytesLost;
            bytesDuplicated += o.bytesDuplicated;
            bytesCorrupted += o.bytesCorrupted;
            maxLateMillis = Math.max(maxLateMillis, o.maxLateMillis);
            nanos += o.nanos;
            if (anomaly == null) {
                anomaly = o.anomaly;
            }
        }

        /** The soak's headline: {@code trials, bytes lost, bytes duplicated}. */
        String headline() {
            return String.format("trials=%d, bytes lost=%d, bytes duplicated=%d", trials, bytesLost, bytesDuplicated);
        }

        @Override
        public String toString() {
            return String.format("%s: %s; writes=%d (completed %d, timed out with 0<n<size %d, with n=0 %d),"
                            + " stall before the writes %d, resumed around the deadlines %d, committed %d + retried %d"
                            + " bytes, corrupted=%d, latest timeout %d ms after its deadline, %.1f s%s",
                    name, headline(), writes, completed, timedOutPartial, timedOutNothing, stalledBeforeWrite,
                    resumedAroundDeadline, bytesCommitted, bytesRetried, bytesCorrupted, maxLateMillis, nanos / 1e9,
                    anomaly == null ? "" : "; FIRST ANOMALY: " + anomaly);
        }
    }

    private record Job(int stream, byte[] message, int size, int deadlineMillis) {
    }

    private record Outcome(int committed, boolean timedOut, int position, long startedAt, long returnedAt, String error) {
    }

    private final ToxiproxyBackend toxiproxy;
    private final String transport;
    private final int version;

    private int progressEvery;
    private long startedNanos;

    StallTrials(ToxiproxyBackend toxiproxy, String transport, int version) {
        this.toxiproxy = toxiproxy;
        this.transport = transport;
        this.version = version;
    }

    /** Prints the running figures every {@code trials} trials (for long runs). */
    StallTrials progressEvery(int trials) {
        this.progressEvery = trials;
        return this;
    }

    /** Runs {@code trials} trials from {@code seed}; returns the tally (with the first anomaly, if any). */
    Tally run(int trials, long seed) throws Exception {
        Tally tally = new Tally(transport + " v" + version);
        long started = System.nanoTime();
        startedNanos = started;
        SmuxConfig.Builder config = SmuxConfig.builder().transport(transport).version(version);
        if (version == 2) {
            config.streamWindow(V2_WINDOW);
        } else {
            config.stagingBufferSize(SmuxConfig.MIN_STAGING_BUFFER);
        }
        SmuxConfig built = config.build();
        ExecutorService writers = Faults.pool("fault-writer", STREAMS);
        SplittableRandom random = new SplittableRandom(seed);
        byte[][] messages = new byte[STREAMS][maxSize()];
        int perPair = version == 2 ? Integer.MAX_VALUE : V1_TRIALS_PER_CONNECTION;
        try {
            for (int done = 0; done < trials && tally.anomaly == null; done += perPair) {
                runOnOnePair(built, Math.min(perPair, trials - done), done, random, messages, writers, tally);
            }
        } finally {
            writers.shutdownNow();
            tally.nanos = System.nanoTime() - started;
        }
        return tally;
    }

    /** Runs {@code trials} trials on one new session pair, then checks the sessions' counters against the writes'. */
    private void runOnOnePair(SmuxConfig config, int trials, int firstIndex, SplittableRandom random, byte[][] messages,
                              ExecutorService writers, Tally tally) throws Exception {
        long committedBefore = tally.bytesCommitted + tally.bytesRetried;
        try (ProxiedPair pair = ProxiedPair.create(toxiproxy, "stall-" + transport + "-v" + version)
                .connect(config, config, version == 1 ? V1_SEND_BUFFER : 0)) {
            pair.proxy.toxics().bandwidth("shaper", ToxicDirection.UPSTREAM, SHAPER_KBPS);
            SmuxStream[] streams = new SmuxStream[STREAMS];
            StreamLog[] logs = new StreamLog[STREAMS];
            for (int i = 0; i < STREAMS; i++) {
                streams[i] = pair.client.openStream();
                logs[i] = StreamLog.start(pair.server.acceptStream(Duration.ofSeconds(10)));
                if (logs[i].stream().id() != streams[i].id()) {
                    throw new AssertionError("accepted stream " + logs[i].stream().id() + ", opened " + streams[i].id());
                }
            }
            for (int t = 0; t < trials && tally.anomaly == null; t++) {
                trial(firstIndex + t, random, pair, streams, logs, messages, writers, tally);
                if (progressEvery > 0 && tally.trials % progressEvery == 0) {
                    System.out.printf("[stall trials] %s: %s after %.0f s%n", tally.name, tally.headline(),
                            (System.nanoTime() - startedNanos) / 1e9);
                }
            }
            if (tally.anomaly == null) {
                long sent = pair.client.stats().bytesSent();
                long received = pair.server.stats().bytesReceived();
                long logged = 0;
                for (StreamLog log : logs) {
                    logged += log.total();
                }
                long expected = tally.bytesCommitted + tally.bytesRetried - committedBefore;
                if (sent != expected || received != expected || logged != expected) {
                    tally.anomaly = "after trial " + (firstIndex + trials - 1) + ": the writes on this connection reported "
                            + expected + " committed bytes, the client session counted " + sent + " sent, the server"
                            + " session " + received + " received, the server application read " + logged;
                    tally.bytesLost += Math.max(0, expected - logged);
                    tally.bytesDuplicated += Math.max(0, logged - expected);
                }
            }
        }
    }

    private int maxSize() {
        return version == 2 ? 1024 * 1024 : 2048 * 1024;
    }

    private int randomSize(SplittableRandom random) {
        // log-uniform: as many small messages (entirely absorbed) as large ones (stalled halfway)
        double min = Math.log(version == 2 ? 32 * 1024 : 128 * 1024);
        double max = Math.log(maxSize());
        return (int) Math.min(maxSize(), Math.exp(min + random.nextDouble() * (max - min)));
    }

    private void trial(int index, SplittableRandom random, ProxiedPair pair, SmuxStream[] streams, StreamLog[] logs,
                       byte[][] messages, ExecutorService writers, Tally tally) throws Exception {
        int count = 1 + random.nextInt(STREAMS);
        int first = random.nextInt(STREAMS);
        List<Job> jobs = new ArrayList<>();
        int minDeadline = Integer.MAX_VALUE;
        int maxDeadline = 0;
        for (int j = 0; j < count; j++) {
            int s = (first + j) % STREAMS;
            int size = randomSize(random);
            int deadline = 50 + random.nextInt(101);
            Faults.pattern(messages[s], size, random.nextLong());
            jobs.add(new Job(s, messages[s], size, deadline));
            minDeadline = Math.min(minDeadline, deadline);
            maxDeadline = Math.max(maxDeadline, deadline);
        }
        boolean stallFirst = random.nextInt(4) == 0;
        long stallAfterMillis = stallFirst ? 0 : random.nextInt(STALL_WITHIN_MILLIS + 1);
        boolean resumeAroundDeadline = random.nextInt(10) < 3;
        long resumeAfterMillis = minDeadline - 15 + random.nextInt(maxDeadline - minDeadline + 31);
        long holdMillis = random.nextInt(26);
        tally.trials++;
        tally.writes += count;
        if (stallFirst) {
            tally.stalledBeforeWrite++;
        }
        if (resumeAroundDeadline) {
            tally.resumedAroundDeadline++;
        }

        Bandwidth stall = null;
        long t0 = System.nanoTime();
        if (stallFirst) {
            stall = pair.proxy.toxics().bandwidth("stall", ToxicDirection.UPSTREAM, 0);
        }
        List<Future<Outcome>> outcomes = new ArrayList<>();
        for (Job job : jobs) {
            SmuxStream stream = streams[job.stream];
            outcomes.add(writers.submit(() -> write(stream, job)));
        }
        if (!stallFirst) {
            Faults.pauseUntil(t0 + TimeUnit.MILLISECONDS.toNanos(stallAfterMillis));
            stall = pair.proxy.toxics().bandwidth("stall", ToxicDirection.UPSTREAM, 0);
        }
        if (resumeAroundDeadline) {
            Faults.pauseUntil(t0 + TimeUnit.MILLISECONDS.toNanos(Math.max(stallAfterMillis + 1, resumeAfterMillis)));
            stall.remove();
        }
        Outcome[] results = new Outcome[count];
        for (int j = 0; j < count; j++) {
            results[j] = outcomes.get(j).get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
        }
        if (!resumeAroundDeadline) {
            Faults.pauseUntil(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(holdMillis));
            stall.remove();
        }

        String where = "trial " + index + " (" + tally.name + ")";
        // Each write either completed, or reports exactly what it committed and left its buffer there.
        for (int j = 0; j < count; j++) {
            Job job = jobs.get(j);
            Outcome o = results[j];
            if (o.error != null) {
                tally.anomaly = where + ", stream " + streams[job.stream].id() + ": " + o.error;
                return;
            }
            if (o.position != o.committed || o.committed < 0 || o.committed > job.size
                    || (!o.timedOut && o.committed != job.size)) {
                tally.anomaly = where + ", stream " + streams[job.stream].id() + ": write of " + job.size
                        + " bytes, timedOut=" + o.timedOut + ", reported " + o.committed + ", buffer position " + o.position;
                return;
            }
            if (o.timedOut) {
                long late = TimeUnit.NANOSECONDS.toMillis(o.returnedAt - o.startedAt) - job.deadlineMillis;
                tally.maxLateMillis = Math.max(tally.maxLateMillis, late);
                if (o.committed == 0) {
                    tally.timedOutNothing++;
                } else if (o.committed < job.size) {
                    tally.timedOutPartial++;
                }
            } else {
                tally.completed++;
            }
            tally.bytesCommitted += o.committed;
        }
        // The server gets exactly the committed bytes of each write: no fewer (lost), and no more (the
        // withdrawn rest was sent after all, which a retry would duplicate).
        for (int j = 0; j < count; j++) {
            Job job = jobs.get(j);
            StreamLog log = logs[job.stream];
            if (!log.awaitAvailable(results[j].committed, WAIT_MILLIS)) {
                tally.bytesLost += results[j].committed - log.available();
                tally.anomaly = where + ", stream " + streams[job.stream].id() + ": " + results[j].committed
                        + " bytes committed, only " + log.available() + " arrived within " + WAIT_MILLIS + " ms";
                return;
            }
        }
        boolean anyMore = false;
        for (int j = 0; j < count && !anyMore; j++) {
            anyMore = logs[jobs.get(j).stream].moreThanWithin(results[j].committed, j == 0 ? QUIET_MILLIS : 0);
        }
        byte[][] prefixes = new byte[count][];
        for (int j = 0; j < count; j++) {
            Job job = jobs.get(j);
            StreamLog log = logs[job.stream];
            int extra = log.available() - results[j].committed;
            if (extra > 0) {
                tally.bytesDuplicated += extra;
                tally.anomaly = where + ", stream " + streams[job.stream].id() + ": write of " + job.size
                        + " bytes reported " + results[j].committed + " committed, but " + log.available() + " arrived";
                return;
            }
            prefixes[j] = log.take(results[j].committed);
            int bad = mismatches(prefixes[j], job.message, 0);
            if (bad > 0) {
                tally.bytesCorrupted += bad;
                tally.anomaly = where + ", stream " + streams[job.stream].id() + ": " + bad
                        + " of the committed bytes differ from the message";
                return;
            }
        }
        if (anyMore) {
            tally.anomaly = where + ": bytes arrived beyond the committed ones";
            return;
        }
        // Retry each timed-out write from where it stopped; the server must get exactly the message.
        List<Future<Outcome>> retries = new ArrayList<>();
        for (int j = 0; j < count; j++) {
            Job job = jobs.get(j);
            int from = results[j].committed;
            SmuxStream stream = streams[job.stream];
            retries.add(from == job.size ? null : writers.submit(() -> retry(stream, job, from)));
        }
        for (int j = 0; j < count; j++) {
            if (retries.get(j) == null) {
                continue;
            }
            Outcome r = retries.get(j).get(WAIT_MILLIS * 2, TimeUnit.MILLISECONDS);
            if (r.error != null) {
                tally.anomaly = where + ", retry on stream " + streams[jobs.get(j).stream].id() + ": " + r.error;
                return;
            }
            tally.bytesRetried += r.committed;
        }
        for (int j = 0; j < count; j++) {
            Job job = jobs.get(j);
            StreamLog log = logs[job.stream];
            int rest = job.size - results[j].committed;
            if (!log.awaitAvailable(rest, WAIT_MILLIS)) {
                tally.bytesLost += rest - log.available();
                tally.anomaly = where + ", stream " + streams[job.stream].id() + ": the retry of " + rest
                        + " bytes delivered only " + log.available();
                return;
            }
            byte[] tail = log.takeAll();
            if (tail.length > rest) {
                tally.bytesDuplicated += tail.length - rest;
                tally.anomaly = where + ", stream " + streams[job.stream].id() + ": the retry of " + rest
                        + " bytes delivered " + tail.length;
                return;
            }
            int bad = mismatches(tail, job.message, results[j].committed);
            String whole = Faults.sha256(prefixes[j], tail);
            if (bad > 0 || !whole.equals(Faults.sha256(Arrays.copyOf(job.message, job.size)))) {
                tally.bytesCorrupted += Math.max(1, bad);
                tally.anomaly = where + ", stream " + streams[job.stream].id() + ": the message as received"
                        + " (SHA-256 " + whole + ") is not the message sent; " + bad + " bytes differ after the retry";
                return;
            }
        }
    }

    private static Outcome write(SmuxStream stream, Job job) {
        ByteBuffer src = ByteBuffer.wrap(job.message, 0, job.size);
        long started = System.nanoTime();
        try {
            stream.setWriteTimeout(Duration.ofMillis(job.deadlineMillis));
            started = System.nanoTime();
            int n = stream.write(src);
            String error = n == job.size ? null : "write returned " + n + " for a buffer of " + job.size;
            return new Outcome(n, false, src.position(), started, System.nanoTime(), error);
        } catch (SocketTimeoutException e) {
            return new Outcome(e.bytesTransferred, true, src.position(), started, System.nanoTime(), null);
        } catch (IOException | RuntimeException e) {
            return new Outcome(-1, false, src.position(), started, System.nanoTime(), "write failed: " + e);
        }
    }

    private static Outcome retry(SmuxStream stream, Job job, int from) {
        ByteBuffer src = ByteBuffer.wrap(job.message, from, job.size - from);
        long started = System.nanoTime();
        try {
            stream.setWriteTimeout(Duration.ofMillis(WAIT_MILLIS));
            int n = stream.write(src);
            String error = n == job.size - from && src.position() == job.size ? null
                    : "retry returned " + n + ", buffer at " + src.position() + " of " + job.size;
            return new Outcome(n, false, src.position(), started, System.nanoTime(), error);
        } catch (IOException | RuntimeException e) {
            return new Outcome(-1, false, src.position(), started, System.nanoTime(), "retry failed: " + e);
        }
    }

    /** Counts bytes of {@code got} that differ from {@code message} starting at {@code offset}. */
    private static int mismatches(byte[] got, byte[] message, int offset) {
        int bad = 0;
        for (int i = 0; i < got.length; i++) {
            if (got[i] != message[offset + i]) {
                bad++;
            }
        }
        return bad;
    }
}
