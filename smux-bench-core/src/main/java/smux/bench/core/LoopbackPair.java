package smux.bench.core;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import smux.api.Session;
import smux.api.Smux;
import smux.api.SmuxConfig;

/** Opens a client and a server session over loopback, both in this process. */
final class LoopbackPair {
    private LoopbackPair() {
    }

    /** @return {client, server} */
    static Session[] open(SmuxConfig config) throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            return open(config, listener);
        }
    }

    /** @return {client, server}, the server accepted from {@code listener} */
    static Session[] open(SmuxConfig config, ServerSocketChannel listener) throws Exception {
        CompletableFuture<Session> server = new CompletableFuture<>();
        Thread acceptor = new Thread(() -> {
            try {
                SocketChannel ch = listener.accept();
                server.complete(Smux.server(ch, config));
            } catch (Throwable t) {
                server.completeExceptionally(t);
            }
        }, Workers.PREFIX + "pair-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        Session client;
        try {
            client = Smux.connect(listener.getLocalAddress(), config);
        } catch (Exception e) {
            listener.close(); // ends the acceptor
            acceptor.join(5_000);
            throw e;
        }
        try {
            Session s = server.get(10, TimeUnit.SECONDS);
            acceptor.join(5_000);
            return new Session[] {client, s};
        } catch (Exception e) {
            client.close();
            throw e;
        }
    }
}
