/**
 * The README's examples: {@code EchoExample} needs smux.api and nothing else; {@code MetricsExample}
 * also the optional Micrometer binder, smux.micrometer.
 */
module smux.examples {
    requires smux.api;
    requires smux.micrometer;
}
