package smux.it.interop;

import java.util.Map;

/**
 * One JSON line of a peer's stdout ({@code {"event":"stream",...}}): the Go peer's events (interop/README.md)
 * and those of {@link ThroughputClient}, which speaks the same way.
 */
record Event(Map<String, Object> fields) {
    String name() {
        return str("event");
    }

    String str(String key) {
        Object v = fields.get(key);
        return v == null ? "" : v.toString();
    }

    long num(String key) {
        Object v = fields.get(key);
        if (v instanceof Number n) {
            return n.longValue();
        }
        throw new AssertionError("event has no number " + key + ": " + fields);
    }

    double real(String key) {
        Object v = fields.get(key);
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        throw new AssertionError("event has no number " + key + ": " + fields);
    }
}
