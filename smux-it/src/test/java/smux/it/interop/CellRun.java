package smux.it.interop;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import smux.it.interop.ProcSample.Usage;

/**
 * One run of one cell of {@link InteropThroughputBench}: what was carried, how long it took, what each of
 * the two processes spent on it, and how the streams ended.
 *
 * @param bytes payload bytes the client wrote (partly written streams included)
 * @param seconds from the go-ahead to the moment every stream was known to be received
 * @param sender the client process between its two samples
 * @param receiver the server process between its two samples
 * @param streams how the streams ended
 */
record CellRun(long bytes, double seconds, Usage sender, Usage receiver, Streams streams) {

    /** MB/s, MB = 10^6 bytes. */
    double mbPerSecond() {
        return bytes / seconds / 1e6;
    }

    /** CPU seconds per GB (10^9 bytes) carried. */
    double cpuPerGb(Usage u) {
        return u.cpuSeconds() / (bytes / 1e9);
    }

    /** Context switches per MB (10^6 bytes) carried. */
    double switchesPerMb(Usage u) {
        return u.switches() / (bytes / 1e6);
    }

    /** One figure of a run, by name, so that the report takes medians of each alike. */
    enum Figure {
        MB_PER_S, RECEIVER_CPU_PER_GB, RECEIVER_SWITCHES_PER_MB, SENDER_CPU_PER_GB, SENDER_SWITCHES_PER_MB;

        double of(CellRun r) {
            switch (this) {
                case MB_PER_S:
                    return r.mbPerSecond();
                case RECEIVER_CPU_PER_GB:
                    return r.cpuPerGb(r.receiver);
                case RECEIVER_SWITCHES_PER_MB:
                    return r.switchesPerMb(r.receiver);
                case SENDER_CPU_PER_GB:
                    return r.cpuPerGb(r.sender);
                case SENDER_SWITCHES_PER_MB:
                    return r.switchesPerMb(r.sender);
                default:
                    throw new AssertionError(this);
            }
        }
    }

    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("bytes", bytes);
        m.put("seconds", seconds);
        m.put("mbPerSecond", mbPerSecond());
        m.put("sender", usageJson(sender));
        m.put("receiver", usageJson(receiver));
        m.put("streams", streams.toJson());
        return m;
    }

    private Map<String, Object> usageJson(Usage u) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpuSeconds", u.cpuSeconds());
        m.put("contextSwitches", u.switches());
        m.put("threadsGone", u.threadsGone());
        m.put("cpuSecondsPerGB", cpuPerGb(u));
        m.put("contextSwitchesPerMB", switchesPerMb(u));
        return m;
    }

    /**
     * How the streams of a run ended. A stream the server refused shows on the client (ended by the server
     * while being written, or not opened at all when a local limit refused it) and, for {@code smux serve},
     * in the count its log line gives when the session ends; both are reported, never folded into a lower
     * figure.
     *
     * @param asked streams the client was to open
     * @param failed client streams that failed, whatever the reason (those below included)
     * @param endedByServer of those, streams the server ended (FIN) while they were being written: refusals
     * @param openFailed of those, streams the client could not open
     * @param refusedByServer streams {@code smux serve} logged as refused (0 for a Go server)
     * @param shortAtReceiver streams a Go server reported with an error or fewer bytes than were sent
     * @param firstError the first failure the client reported, "" if none
     */
    record Streams(int asked, int failed, int endedByServer, int openFailed, int refusedByServer, int shortAtReceiver,
                   String firstError) {

        /** @return whether every stream was served whole */
        boolean allServed() {
            return failed == 0 && refusedByServer == 0 && shortAtReceiver == 0;
        }

        /** @return what went wrong, e.g. "refused 872 of 1000", or "" if every stream was served */
        String problems() {
            List<String> p = new ArrayList<>();
            int refused = Math.max(endedByServer, refusedByServer);
            if (refused > 0) {
                p.add("refused " + refused + " of " + asked);
            }
            if (openFailed > 0) {
                p.add("open failed " + openFailed + " of " + asked);
            }
            int other = failed - endedByServer - openFailed;
            if (other > 0) {
                p.add(other + " of " + asked + " failed");
            }
            if (shortAtReceiver > 0) {
                p.add(shortAtReceiver + " of " + asked + " short at the server");
            }
            return String.join(", ", p);
        }

        Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("asked", asked);
            m.put("failed", failed);
            m.put("endedByServer", endedByServer);
            m.put("openFailed", openFailed);
            m.put("refusedByServer", refusedByServer);
            m.put("shortAtReceiver", shortAtReceiver);
            m.put("firstError", firstError);
            m.put("problems", problems());
            return m;
        }
    }
}
