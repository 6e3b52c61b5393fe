/**
 * Optional: the counters of smux sessions as Micrometer meters ({@link smux.micrometer.SmuxMetrics}).
 * It needs only the API of smux and Micrometer's core; no smux module depends on it.
 */
module smux.micrometer {
    requires transitive smux.api;
    requires transitive micrometer.core;

    exports smux.micrometer;
}
