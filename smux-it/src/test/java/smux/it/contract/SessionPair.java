package smux.it.contract;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import smux.api.Session;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.it.OwnThreads;

/**
 * A client and a server session over real loopback TCP, both on the same transport, started the
 * way an application starts them (through {@link Smux}). Optionally through a {@link Relay}.
 */
final class SessionPair implements AutoCloseable {
    final Session client;
    final Session server;
    final Relay relay;

    private SessionPair(Session client, Session server, Relay relay) {
        this.client = client;
        this.server = server;
        this.relay = relay;
    }

    static SessionPair open(String transport) throws Exception {
        return open(transport, SmuxConfig.builder(), false);
    }

    static SessionPair open(String transport, SmuxConfig.Builder config) throws Exception {
        return open(transport, config, false);
    }

    static SessionPair open(String transport, SmuxConfig.Builder config, boolean viaRelay) throws Exception {
        return open(transport, config, config, viaRelay);
    }

    static SessionPair open(String transport, SmuxConfig.Builder clientConfig, SmuxConfig.Builder serverConfig,
                            boolean viaRelay) throws Exception {
        SmuxConfig cc = clientConfig.transport(transport).build();
        SmuxConfig sc = serverConfig.transport(transport).build();
        try (ServerSocketChannel listener = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            CompletableFuture<Session> server = OwnThreads.supply(() -> {
                try {
                    SocketChannel accepted = listener.accept();
                    return Smux.server(accepted, sc);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Relay relay = null;
            InetSocketAddress target = (InetSocketAddress) listener.getLocalAddress();
            if (viaRelay) {
                relay = Relay.start(target);
                target = relay.address();
            }
            Session client = Smux.connect(target, cc);
            return new SessionPair(client, server.get(10, TimeUnit.SECONDS), relay);
        }
    }

    @Override
    public void close() throws IOException {
        client.close();
        server.close();
        if (relay != null) {
            relay.close();
        }
    }
}
