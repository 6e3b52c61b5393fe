package smux.it.faults;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import smux.api.Session;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.it.OwnThreads;
import smux.it.toxi.ProxyHandle;
import smux.it.toxi.ToxiproxyBackend;

/**
 * A client and a server session whose connection runs through a real Toxiproxy proxy: the client dials the
 * proxy, the proxy dials the server's loopback listener. Toxics on {@link #proxy} act on the session's one
 * TCP connection: UPSTREAM is client to server, DOWNSTREAM server to client.
 *
 * <p>Made in two steps so a test can put toxics on the proxy before the connection exists
 * ({@code reset_peer} only arms connections opened after it was added): {@link #create}, then {@link #connect}.
 */
final class ProxiedPair implements AutoCloseable {
    final ProxyHandle proxy;
    private final ServerSocketChannel listener;
    Session client;
    private int clientSendBuffer;
    Session server;

    private ProxiedPair(ServerSocketChannel listener, ProxyHandle proxy) {
        this.listener = listener;
        this.proxy = proxy;
    }

    /** A loopback listener for the server session and a proxy named {@code name} in front of it. */
    static ProxiedPair create(ToxiproxyBackend toxiproxy, String name) throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
        try {
            InetSocketAddress at = (InetSocketAddress) listener.getLocalAddress();
            return new ProxiedPair(listener, toxiproxy.createProxy(name, at.getAddress().getHostAddress(), at.getPort()));
        } catch (IOException | RuntimeException e) {
            listener.close();
            throw e;
        }
    }

    /** Creates the proxy and connects both sessions with the same settings. */
    static ProxiedPair open(ToxiproxyBackend toxiproxy, String name, SmuxConfig config) throws Exception {
        ProxiedPair pair = create(toxiproxy, name);
        try {
            return pair.connect(config, config);
        } catch (Exception | Error e) {
            pair.close();
            throw e;
        }
    }

    /**
     * Dials the proxy with the client settings and starts the server session on the connection the proxy
     * makes to the listener. The server side is accepted on another thread, so a client that probes its
     * peer ({@code probePeer}) gets its answer.
     */
    ProxiedPair connect(SmuxConfig clientConfig, SmuxConfig serverConfig) throws Exception {
        listener.socket().setSoTimeout(10_000);
        CompletableFuture<Session> accepted = OwnThreads.supply(() -> {
            try {
                Socket socket = listener.socket().accept();
                return Smux.server(socket.getChannel(), serverConfig);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try {
            client = dial(clientConfig);
            server = accepted.get(10, TimeUnit.SECONDS);
            return this;
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    /** Same as {@link #connect(SmuxConfig, SmuxConfig)}, dialing with a client socket whose send buffer is fixed. */
    ProxiedPair connect(SmuxConfig clientConfig, SmuxConfig serverConfig, int clientSendBuffer) throws Exception {
        this.clientSendBuffer = clientSendBuffer;
        return connect(clientConfig, serverConfig);
    }

    private Session dial(SmuxConfig clientConfig) throws IOException {
        if (clientSendBuffer <= 0) {
            return Smux.connect(proxy.address(), clientConfig);
        }
        SocketChannel channel = SocketChannel.open();
        try {
            channel.setOption(StandardSocketOptions.SO_SNDBUF, clientSendBuffer);
            channel.connect(proxy.address());
            return Smux.client(channel, clientConfig);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** Closes both sessions, the listener and the proxy (with its connection). */
    @Override
    public void close() throws IOException {
        try {
            if (client != null) {
                client.close();
            }
            if (server != null) {
                server.close();
            }
        } finally {
            try {
                listener.close();
            } finally {
                proxy.proxy().delete();
            }
        }
    }
}
