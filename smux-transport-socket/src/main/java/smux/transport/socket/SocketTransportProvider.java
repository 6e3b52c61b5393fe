package smux.transport.socket;

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
 * The blocking-socket transport: a reader and a writer thread per session. The default choice
 * (priority 10): simplest, and with virtual threads (a {@code ThreadFactory} in the config on
 * Java 21+) it scales to many sessions.
 */
public final class SocketTransportProvider implements TransportProvider {
    /** The name users select this transport by. */
    public static final String NAME = "socket";

    /** Creates the provider; {@link java.util.ServiceLoader} calls this. */
    public SocketTransportProvider() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public Session open(Socket socket, boolean client, SmuxConfig config) throws IOException {
        return start(socket, client, config);
    }

    @Override
    public Session open(SocketChannel channel, boolean client, SmuxConfig config) throws IOException {
        try {
            channel.configureBlocking(true);
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        return start(channel.socket(), client, config);
    }

    /** A socket of a channel is driven through the channel; a plain one (TLS too) through its streams. */
    private static Session start(Socket socket, boolean client, SmuxConfig config) throws IOException {
        return SessionStarter.start(socket, client, config, NAME,
                link -> socket.getChannel() == null ? new StreamConnection(socket, link, config)
                        : ChannelConnection.open(socket, socket.getChannel(), link, config));
    }

    @Override
    public ProbeResult probe(Socket socket, SmuxConfig config) {
        return BlockingProbe.probe(socket, config);
    }
}
