package smux.transport.nio;

import java.io.IOException;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import smux.api.ProbeResult;
import smux.api.Session;
import smux.api.SmuxConfig;
import smux.api.spi.TransportProvider;
import smux.engine.runtime.BlockingProbe;
import smux.engine.runtime.SessionStarter;

/**
 * The NIO transport: one selector thread serves every session, with non-blocking reads and
 * writes and no thread per session. Chosen by name ({@code "nio"}); its priority (5) is below the
 * socket transport's, which is the default.
 */
public final class NioTransportProvider implements TransportProvider {
    /** The name users select this transport by. */
    public static final String NAME = "nio";

    /** Creates the provider; {@link java.util.ServiceLoader} calls this. */
    public NioTransportProvider() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return 5;
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException if the socket was not created from a {@link SocketChannel}
     *     (this transport needs the channel; use the socket transport for plain sockets)
     */
    @Override
    public Session open(Socket socket, boolean client, SmuxConfig config) throws IOException {
        SocketChannel channel = socket.getChannel();
        if (channel == null) {
            throw new IllegalArgumentException("the nio transport needs a socket made by SocketChannel.open() or "
                    + "ServerSocketChannel.accept(); pass the SocketChannel, or use the socket transport for plain sockets");
        }
        return open(channel, client, config);
    }

    @Override
    public Session open(SocketChannel channel, boolean client, SmuxConfig config) throws IOException {
        return SessionStarter.start(channel.socket(), client, config, NAME, link -> NioConnection.open(channel, link, config));
    }

    @Override
    public ProbeResult probe(Socket socket, SmuxConfig config) {
        return BlockingProbe.probe(socket, config);
    }
}
