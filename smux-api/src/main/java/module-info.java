/**
 * smux for Java: many ordered, flow-controlled byte streams over one TCP connection,
 * wire-compatible with Go xtaci/smux versions 1 and 2. The only module an application requires:
 * the transports ({@code smux-transport-socket}, {@code smux-transport-nio}) are found at run time.
 */
module smux.api {
    exports smux.api;
    exports smux.api.spi;

    uses smux.api.spi.TransportProvider;
}
