package smux.engine.runtime;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Threshold;
import smux.api.MemoryBudget;
import smux.api.ProtocolException;
import smux.engine.CloseReason;

/**
 * Observability: {@link System.Logger} named {@code smux} for the lifecycle and for protocol
 * errors, and JFR events ({@code smux.SessionOpened}, {@code smux.SessionClosed},
 * {@code smux.ProtocolError}, {@code smux.Stall}, {@code smux.CloseAbandoned}, and the periodic
 * {@code smux.MemoryBudget}) for recordings.
 */
final class Telemetry {
    static final Logger LOG = System.getLogger("smux");

    private Telemetry() {
    }

    @Name("smux.SessionOpened")
    @Label("smux Session Opened")
    @Category("smux")
    static final class SessionOpened extends Event {
        @Label("Remote") String remote;
        @Label("Transport") String transport;
        @Label("Client") boolean client;
        @Label("Version") int version;
    }

    @Name("smux.SessionClosed")
    @Label("smux Session Closed")
    @Category("smux")
    static final class SessionClosed extends Event {
        @Label("Remote") String remote;
        @Label("Reason") String reason;
        @Label("Message") String message;
        @Label("Bytes Sent") long bytesSent;
        @Label("Bytes Received") long bytesReceived;
    }

    @Name("smux.ProtocolError")
    @Label("smux Protocol Error")
    @Category("smux")
    static final class ProtocolError extends Event {
        @Label("Remote") String remote;
        @Label("Violation") String violation;
        @Label("Message") String message;
    }

    @Name("smux.Stall")
    @Label("smux Stall")
    @Description("A stream waited: its writes for the peer's window (PEER_WINDOW) or for the connection (CONNECTION), "
            + "or its received bytes for the local application to read them (LOCAL_READER)")
    @Category("smux")
    @Threshold("100 ms")
    static final class Stall extends Event {
        @Label("Remote") String remote;
        @Label("Cause") String cause;
        @Label("Stream") long stream;
        @Label("Bytes") @jdk.jfr.DataAmount long bytes;
    }

    @Name("smux.CloseAbandoned")
    @Label("smux Close Abandoned")
    @Description("A local close gave up committed bytes: the connection made no progress for the close timeout, "
            + "or failed during the flush")
    @Category("smux")
    static final class CloseAbandoned extends Event {
        @Label("Remote") String remote;
        @Label("Committed Bytes Abandoned") long committedBytesAbandoned;
        @Label("Close Timeout (ms)") long closeTimeoutMillis;
        @Label("Failure") String failure;
    }

    /**
     * A close gave up {@code abandoned} committed payload bytes: the same number the caller's
     * exception and the stats carry.
     *
     * @param failure the connection's failure during the flush, or null if the close timed out
     */
    static void closeAbandoned(String remote, long abandoned, java.time.Duration timeout, Exception failure) {
        LOG.log(Level.WARNING, () -> "smux session with " + remote + ": close gave up " + abandoned
                + " committed bytes, which will not reach the peer: " + (failure == null
                        ? "the connection accepted nothing for closeTimeout = " + timeout.toMillis() + " ms (the peer did not read)"
                        : "the connection failed during the flush: " + failure));
        CloseAbandoned e = new CloseAbandoned();
        if (e.isEnabled()) {
            e.remote = remote;
            e.committedBytesAbandoned = abandoned;
            e.closeTimeoutMillis = timeout.toMillis();
            e.failure = failure == null ? "" : failure.toString();
            e.commit();
        }
    }

    /**
     * Starts timing a stall; the caller passes it to {@link #stallEnds} when the stall ends (JFR
     * keeps those past the event's threshold, 100 ms unless a recording's settings say otherwise).
     * Nothing is formatted here: the remote address is filled in only for an event that will be
     * recorded.
     *
     * @return the event, or null if JFR does not record it
     */
    static Stall stallBegins(smux.api.StallCause cause, int streamId) {
        Stall e = new Stall();
        if (!e.isEnabled()) {
            return null;
        }
        e.cause = cause.name();
        e.stream = Integer.toUnsignedLong(streamId);
        e.begin();
        return e;
    }

    /** Ends a stall begun with {@link #stallBegins}; records it if JFR wants it. */
    static void stallEnds(Stall e, smux.api.Session session, long bytes) {
        e.end();
        if (e.shouldCommit()) {
            e.bytes = bytes;
            e.remote = String.valueOf(session.remoteAddress().orElse(null));
            e.commit();
        }
    }

    @Name("smux.MemoryBudget")
    @Label("smux Memory Budget")
    @Description("The receive memory budgets sessions share: what is reserved of each, once a second")
    @Category("smux")
    @jdk.jfr.Period("1 s")
    static final class MemoryBudgetEvent extends Event {
        @Label("Budget") String budget;
        @Label("Capacity") @jdk.jfr.DataAmount long capacity;
        @Label("Used") @jdk.jfr.DataAmount long used;
        @Label("Peak") @jdk.jfr.DataAmount long peak;
        @Label("Refusals") long refusals;
    }

    /** The budgets sessions of this process use, for the periodic event; weak, so a budget no one uses goes. */
    private static final java.util.Map<MemoryBudget, Boolean> BUDGETS =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

    static {
        jdk.jfr.FlightRecorder.addPeriodicEvent(MemoryBudgetEvent.class, Telemetry::emitBudgets);
    }

    /** A session started with this budget: the periodic event reports it from now on. */
    static void budgetInUse(MemoryBudget budget) {
        BUDGETS.put(budget, Boolean.TRUE);
    }

    private static void emitBudgets() {
        java.util.List<MemoryBudget> all;
        synchronized (BUDGETS) {
            all = new java.util.ArrayList<>(BUDGETS.keySet());
        }
        for (MemoryBudget b : all) {
            MemoryBudgetEvent e = new MemoryBudgetEvent();
            e.budget = b == MemoryBudget.processWide() ? "process-wide" : "budget@" + Integer.toHexString(System.identityHashCode(b));
            e.capacity = b.capacity();
            e.used = b.used();
            e.peak = b.peak();
            e.refusals = b.refusals();
            e.commit();
        }
    }

    static void opened(String remote, String transport, boolean client, int version) {
        LOG.log(Level.DEBUG, () -> "smux session opened: " + remote + " via " + transport
                + (client ? " (client" : " (server") + (version == 0 ? ", version from the peer's first frame)" : ", v" + version + ")"));
        SessionOpened e = new SessionOpened();
        if (e.isEnabled()) {
            e.remote = remote;
            e.transport = transport;
            e.client = client;
            e.version = version;
            e.commit();
        }
    }

    static void closed(String remote, CloseReason reason, Throwable error, long sent, long received) {
        Throwable cause = error == null ? null : error.getCause();
        if (cause instanceof ProtocolException pe) {
            LOG.log(Level.WARNING, () -> "smux session with " + remote + " closed: " + pe.getMessage());
            ProtocolError e = new ProtocolError();
            if (e.isEnabled()) {
                e.remote = remote;
                e.violation = pe.violation().name();
                e.message = pe.getMessage();
                e.commit();
            }
        } else {
            LOG.log(Level.DEBUG, () -> "smux session with " + remote + " closed: " + reason
                    + (error == null ? "" : " (" + error.getMessage() + ")"));
        }
        SessionClosed e = new SessionClosed();
        if (e.isEnabled()) {
            e.remote = remote;
            e.reason = reason.name();
            e.message = error == null ? null : error.getMessage();
            e.bytesSent = sent;
            e.bytesReceived = received;
            e.commit();
        }
    }
}
