/**
 * The blocking-socket transport of smux: found by {@link java.util.ServiceLoader} under the name
 * {@code "socket"}. One reader and one writer thread per session.
 */
module smux.transport.socket {
    requires smux.engine;

    provides smux.api.spi.TransportProvider with smux.transport.socket.SocketTransportProvider;
}
