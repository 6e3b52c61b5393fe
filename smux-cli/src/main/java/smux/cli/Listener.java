package smux.cli;

import java.io.Closeable;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import javax.net.ServerSocketFactory;
import picocli.CommandLine.Model.CommandSpec;

/**
 * A listening socket that yields connected {@link Socket}s: from a {@link ServerSocketChannel}
 * when the NIO transport needs channels, else from a plain (or TLS) {@link ServerSocket}, whose
 * sockets the socket transport drives through their streams (which suits virtual threads too).
 */
final class Listener implements Closeable {
    private final ServerSocket socket;
    private final ServerSocketChannel channel;

    private Listener(ServerSocket socket, ServerSocketChannel channel) {
        this.socket = socket;
        this.channel = channel;
    }

    /**
     * Binds, or fails as a usage error that names the flag and the address (exit 2).
     *
     * @param factory the plain or TLS factory; ignored when {@code channels} is set
     */
    static Listener bind(CommandSpec spec, String flag, InetSocketAddress address, boolean channels, ServerSocketFactory factory) {
        try {
            if (channels) {
                ServerSocketChannel ch = ServerSocketChannel.open();
                try {
                    ch.bind(address, 512);
                } catch (IOException | RuntimeException e) {
                    ch.close();
                    throw e;
                }
                return new Listener(null, ch);
            }
            ServerSocket s = factory.createServerSocket();
            try {
                s.bind(address, 512);
            } catch (IOException | RuntimeException e) {
                s.close();
                throw e;
            }
            return new Listener(s, null);
        } catch (BindException e) {
            String why = String.valueOf(e.getMessage());
            throw Flags.bad(spec, flag, "cannot listen on " + Flags.show(address) + ": "
                    + (why.startsWith("Address already in use") ? "address already in use (another program listens there)" : why));
        } catch (IOException | RuntimeException e) {
            throw Flags.bad(spec, flag, "cannot listen on " + Flags.show(address) + ": " + Log.describe(e));
        }
    }

    Socket accept() throws IOException {
        return channel != null ? channel.accept().socket() : socket.accept();
    }

    InetSocketAddress address() {
        return (InetSocketAddress) (channel != null ? channel.socket().getLocalSocketAddress() : socket.getLocalSocketAddress());
    }

    boolean isOpen() {
        return channel != null ? channel.isOpen() : !socket.isClosed();
    }

    @Override
    public void close() {
        try {
            if (channel != null) {
                channel.close();
            } else {
                socket.close();
            }
        } catch (IOException ignored) {
            // stopping: nothing more to do
        }
    }
}
