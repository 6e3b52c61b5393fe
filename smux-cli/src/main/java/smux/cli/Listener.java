package smux.cli;

import java.io.Closeable;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import picocli.CommandLine.Model.CommandSpec;

/**
 * A listening socket that yields connected {@link Socket}s: from a {@link ServerSocketChannel}
 * when the NIO transport needs channels, else from a plain {@link ServerSocket}, whose sockets the
 * socket transport drives through their streams (which suits virtual threads too). TLS, where
 * asked for, is layered over each accepted socket ({@link TlsOptions#accept}).
 */
final class Listener implements Closeable {
    private final ServerSocket socket;
    private final ServerSocketChannel channel;

    private Listener(ServerSocket socket, ServerSocketChannel channel) {
        this.socket = socket;
        this.channel = channel;
    }

    /**
     * Binds the address of {@code --listen}, or fails as a usage error that names the flag and the
     * address (exit 2).
     *
     * @param hostPort the option's value
     * @param channels whether to accept channels (the NIO transport needs them) rather than sockets
     */
    static Listener bind(CommandSpec spec, String hostPort, boolean channels) {
        String flag = "--listen";
        InetSocketAddress address = Flags.address(spec, flag, hostPort);
        try {
            Listener l = channels ? new Listener(null, ServerSocketChannel.open()) : new Listener(new ServerSocket(), null);
            try {
                if (l.channel != null) {
                    l.channel.bind(address, 512);
                } else {
                    l.socket.bind(address, 512);
                }
                return l;
            } catch (IOException | RuntimeException e) {
                l.close();
                throw e;
            }
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
