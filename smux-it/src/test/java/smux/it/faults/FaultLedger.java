package smux.it.faults;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import smux.api.AbandonedBytesException;
import smux.api.LimitExceededException;
import smux.api.ProtocolException;
import smux.api.SessionClosedException;
import smux.api.StreamClosedException;

/**
 * What a random-fault run counts, from many threads at once: sessions, streams, bytes, the exact-delivery
 * figures (lost, duplicated, corrupted), every failure by kind, and anomalies (anything that breaks a
 * promise; the run fails if there is one).
 *
 * <p><b>The failures an application may see</b> ({@link #kind}): when the network fails under a session, a
 * call may fail only with
 * <ul>
 *   <li>{@link SessionClosedException}, whose cause, if any, is an {@link IOException} of the connection (reset,
 *       broken pipe, end of stream) or a {@link ProtocolException} {@code TRUNCATED_FRAME} (the connection ended
 *       inside a frame); no other protocol violation can come out of a proxy that only delays, cuts, or drops
 *       the connection;</li>
 *   <li>{@link SocketTimeoutException}, from a write or read timeout (a write's {@code bytesTransferred} is then
 *       checked separately);</li>
 *   <li>{@link StreamClosedException} and {@link LimitExceededException}, which these trials should not cause
 *       but which are legitimate answers of the API;</li>
 * </ul>
 * each with a message that is not blank. Anything else (a plain {@link IOException}, a runtime exception, an
 * error, a blank message) is an anomaly.
 *
 * <p>Each episode books into a ledger of its own, {@linkplain #merge merged} into the run's at its end: if
 * Toxiproxy may have dropped bytes of that episode's connection ({@link ToxicChaos#taint()}), what a hole in
 * the byte stream explains (corrupted, lost or duplicated bytes, a protocol error other than a truncated
 * frame: the <em>integrity</em> anomalies) is booked apart, as <em>tainted</em>, and does not fail the run;
 * anything else (a hang, a wrong {@code bytesTransferred}, any other unexpected failure) still does.
 */
final class FaultLedger {
    private static final int ANOMALIES_KEPT = 20;
    private final String scope;

    final LongAdder sessions = new LongAdder();
    final LongAdder sessionsFailed = new LongAdder();
    final LongAdder terminalFaults = new LongAdder();
    final LongAdder streams = new LongAdder();
    final LongAdder completed = new LongAdder();
    final LongAdder bytesCommitted = new LongAdder();
    final LongAdder bytesDelivered = new LongAdder();
    final LongAdder bytesOnCompletedStreams = new LongAdder();
    final LongAdder lost = new LongAdder();
    final LongAdder duplicated = new LongAdder();
    final LongAdder corrupted = new LongAdder();
    final LongAdder writeTimeouts = new LongAdder();
    final LongAdder partialTimeouts = new LongAdder();
    final LongAdder retriedBytes = new LongAdder();
    private final Map<String, LongAdder> failures = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> toxics = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> configurations = new ConcurrentHashMap<>();
    private final AtomicInteger anomalyCount = new AtomicInteger();
    private final Queue<String> anomalies = new ConcurrentLinkedQueue<>();
    private final AtomicInteger integrityCount = new AtomicInteger();
    private final Queue<String> integrity = new ConcurrentLinkedQueue<>();
    final LongAdder taintedEpisodes = new LongAdder();
    final LongAdder taintedAnomalies = new LongAdder();
    private final Queue<String> taints = new ConcurrentLinkedQueue<>();

    /** @param scope what the ledger books (an episode's name), or null for the run */
    FaultLedger(String scope) {
        this.scope = scope;
    }

    /** Counts a failure an operation ({@code open}, {@code write}...) ended with; an unnamed one is an anomaly. */
    void failure(String operation, Throwable t) {
        String kind = kind(t);
        if (kind == null) {
            String description = operation + " failed with an exception outside the allowed set: " + describe(t);
            if (t.getCause() instanceof ProtocolException) {
                integrityAnomaly(description); // the bytes that arrived were not what was sent
            } else {
                anomaly(description);
            }
            kind = UNEXPECTED + t.getClass().getName()
                    + (t.getCause() != null ? "(" + t.getCause().getClass().getSimpleName() + ")" : "");
        }
        failures.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }

    /** The failure's kind, or null if an application should never see it. */
    static String kind(Throwable t) {
        String message = t.getMessage();
        if (message == null || message.isBlank()) {
            return null;
        }
        if (t instanceof SessionClosedException) {
            Throwable cause = t.getCause();
            if (cause == null) {
                return "SessionClosedException";
            }
            if (cause instanceof ProtocolException p) {
                return p.violation() == ProtocolException.Violation.TRUNCATED_FRAME
                        ? "SessionClosedException(ProtocolException TRUNCATED_FRAME)" : null;
            }
            return cause instanceof IOException ? "SessionClosedException(" + cause.getClass().getSimpleName() + ")" : null;
        }
        if (t instanceof SocketTimeoutException || t instanceof StreamClosedException || t instanceof LimitExceededException
                || t instanceof AbandonedBytesException) {
            return t.getClass().getSimpleName();
        }
        return null;
    }

    /** Counts a session pair of a configuration ({@code "socket v2"}...). */
    void session(String configuration) {
        sessions.increment();
        configurations.computeIfAbsent(configuration, k -> new LongAdder()).increment();
    }

    void toxic(String type) {
        toxics.computeIfAbsent(type, k -> new LongAdder()).increment();
    }

    /** Something that breaks a promise: fails the run. */
    void anomaly(String description) {
        record(anomalyCount, anomalies, description);
    }

    /**
     * Bytes that arrived were not the bytes sent (corrupted, lost, duplicated, undecodable): fails the run,
     * unless the episode turns out tainted by a Toxiproxy drop.
     */
    void integrityAnomaly(String description) {
        record(integrityCount, integrity, description);
    }

    private void record(AtomicInteger count, Queue<String> kept, String description) {
        if (count.incrementAndGet() <= ANOMALIES_KEPT) {
            kept.add(description);
        }
        System.out.println("CHAOS ANOMALY " + (scope == null ? "" : "[" + scope + "] ") + description);
    }

    /**
     * Adds an episode's figures to this (the run's) ledger. With a {@code taint} (why Toxiproxy may have dropped
     * bytes of its connection), the episode's anomalies, lost, duplicated and corrupted bytes and unexpected
     * failures are booked as tainted instead.
     */
    void merge(FaultLedger e, String taint) {
        for (LongAdder[] pair : new LongAdder[][] {{sessions, e.sessions}, {sessionsFailed, e.sessionsFailed},
                {terminalFaults, e.terminalFaults}, {streams, e.streams}, {completed, e.completed},
                {bytesCommitted, e.bytesCommitted}, {bytesDelivered, e.bytesDelivered},
                {bytesOnCompletedStreams, e.bytesOnCompletedStreams}, {writeTimeouts, e.writeTimeouts},
                {partialTimeouts, e.partialTimeouts}, {retriedBytes, e.retriedBytes}}) {
            pair[0].add(pair[1].sum());
        }
        e.configurations.forEach((k, v) -> configurations.computeIfAbsent(k, x -> new LongAdder()).add(v.sum()));
        e.toxics.forEach((k, v) -> toxics.computeIfAbsent(k, x -> new LongAdder()).add(v.sum()));
        e.failures.forEach((k, v) -> failures.computeIfAbsent(taint != null && k.startsWith(UNEXPECTED) && k.endsWith("(ProtocolException)")
                ? "after a Toxiproxy drop: " + k.substring(UNEXPECTED.length()) : k, x -> new LongAdder()).add(v.sum()));
        take(anomalyCount, anomalies, e.anomalyCount.get(), e.anomalies, e.scope);
        if (taint == null) {
            lost.add(e.lost.sum());
            duplicated.add(e.duplicated.sum());
            corrupted.add(e.corrupted.sum());
            take(integrityCount, integrity, e.integrityCount.get(), e.integrity, e.scope);
        } else {
            taintedEpisodes.increment();
            taintedAnomalies.add(e.integrityCount.get());
            String note = e.scope + ": " + taint + "; " + e.integrityCount.get() + " integrity anomalies, " + e.lost.sum()
                    + " lost, " + e.duplicated.sum() + " duplicated, " + e.corrupted.sum() + " corrupted booked as tainted";
            if (taints.size() < ANOMALIES_KEPT) {
                taints.add(note);
            }
            System.out.println("CHAOS TAINTED " + note);
        }
    }

    private static void take(AtomicInteger count, Queue<String> kept, int n, Queue<String> descriptions, String scope) {
        for (String a : descriptions) {
            if (count.incrementAndGet() <= ANOMALIES_KEPT) {
                kept.add("[" + scope + "] " + a);
            }
        }
        count.addAndGet(Math.max(0, n - descriptions.size()));
    }

    String taints() {
        return String.join("\n  ", taints);
    }

    /** @return anomalies of both kinds (tainted ones not included) */
    int anomalies() {
        return anomalyCount.get() + integrityCount.get();
    }

    String firstAnomalies() {
        return String.join("\n  ", integrity) + (integrity.isEmpty() ? "" : "\n  ") + String.join("\n  ", anomalies);
    }

    long unexpectedFailures() {
        return failures.entrySet().stream().filter(e -> e.getKey().startsWith(UNEXPECTED)).mapToLong(e -> e.getValue().sum()).sum();
    }

    private static final String UNEXPECTED = "UNEXPECTED ";

    Map<String, Long> failuresByKind() {
        Map<String, Long> m = new TreeMap<>();
        failures.forEach((k, v) -> m.put(k, v.sum()));
        return m;
    }

    Map<String, Long> toxicsByType() {
        return sorted(toxics);
    }

    private static Map<String, Long> sorted(Map<String, LongAdder> counts) {
        Map<String, Long> m = new TreeMap<>();
        counts.forEach((k, v) -> m.put(k, v.sum()));
        return m;
    }

    /** The figures, on one line. */
    String figures() {
        return String.format(java.util.Locale.ROOT,
                "sessions=%d %s (ended by a fault %d, terminal toxics %d), streams=%d (completed %d), bytes committed=%d,"
                        + " delivered=%d (on completed streams %d), lost=%d, duplicated=%d, corrupted=%d,"
                        + " write timeouts=%d (partial %d, %d bytes retried), failures=%s, unexpected=%d, anomalies=%d,"
                        + " episodes tainted by a Toxiproxy drop=%d (their anomalies %d), toxics=%s",
                sessions.sum(), sorted(configurations), sessionsFailed.sum(), terminalFaults.sum(), streams.sum(), completed.sum(),
                bytesCommitted.sum(), bytesDelivered.sum(), bytesOnCompletedStreams.sum(), lost.sum(), duplicated.sum(),
                corrupted.sum(), writeTimeouts.sum(), partialTimeouts.sum(), retriedBytes.sum(), failuresByKind(),
                unexpectedFailures(), anomalies(), taintedEpisodes.sum(), taintedAnomalies.sum(), toxicsByType());
    }

    static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder(t.toString());
        for (Throwable c = t.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            sb.append(" <- ").append(c);
        }
        StackTraceElement[] trace = t.getStackTrace();
        for (int i = 0; i < Math.min(6, trace.length); i++) {
            sb.append("\n      at ").append(trace[i]);
        }
        return sb.toString();
    }
}
