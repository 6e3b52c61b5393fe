/**
 * The NIO transport of smux: found by {@link java.util.ServiceLoader} under the name
 * {@code "nio"}. One selector thread serves many sessions over non-blocking channels.
 */
module smux.transport.nio {
    requires smux.engine;

    provides smux.api.spi.TransportProvider with smux.transport.nio.NioTransportProvider;
}
