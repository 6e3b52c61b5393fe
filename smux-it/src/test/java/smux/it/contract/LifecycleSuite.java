package smux.it.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import smux.api.Session;
import smux.api.SessionClosedException;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.it.OwnThreads;

/**
 * How sessions begin and end: no leaked threads or sockets, a silent or vanished peer is
 * detected, and the probe tells smux peers from everything else.
 */
abstract class LifecycleSuite {
    abstract String transport();

    SmuxConfig.Builder config() {
        return SmuxConfig.builder().transport(transport());
    }

    static long smuxThreads() {
        return smux.it.Leaks.smuxThreads();
    }

    static long openFiles() {
        return smux.it.Leaks.openFiles();
    }

    @Test
    @Timeout(120)
    void sessionsLeaveNoThreadsOrSocketsBehind() throws Exception {
        try (SessionPair warmup = SessionPair.open(transport())) {
            warmup.client.openStream().outputStream().write(1);
        }
        assertTrue(Bytes.await(5000, () -> smuxThreads() == 0), "threads left by the warm-up: " + smux.it.Leaks.smuxThreadNames());
        long filesBefore = openFiles();

        List<SessionPair> pairs = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            SessionPair p = SessionPair.open(transport());
            pairs.add(p);
            for (int s = 0; s < 5; s++) {
                SmuxStream stream = p.client.openStream();
                stream.outputStream().write(new byte[10_000]);
                SmuxStream accepted = p.server.acceptStream(Duration.ofSeconds(5));
                assertEquals(10_000, accepted.inputStream().readNBytes(10_000).length);
                if (s % 2 == 0) {
                    stream.close();
                }
            }
        }
        assertTrue(smuxThreads() > 0);
        for (SessionPair p : pairs) {
            p.close();
            assertTrue(p.client.isClosed() && p.server.isClosed());
        }
        assertTrue(Bytes.await(5000, () -> smuxThreads() == 0), "smux threads still alive: " + smuxThreads());
        if (filesBefore >= 0) {
            assertTrue(Bytes.await(5000, () -> openFiles() <= filesBefore),
                    "file descriptors: " + filesBefore + " before, " + openFiles() + " after");
        }
    }

    @Test
    @Timeout(30)
    void aSilentPeerIsDetectedByTheKeepaliveTimeout() throws Exception {
        try (ServerSocket silent = RawPeer.listen()) {
            CompletableFuture<RawPeer> peer = OwnThreads.supply(() -> {
                try {
                    return RawPeer.accept(silent);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            SmuxConfig c = config().keepAlive(Duration.ofMillis(100), Duration.ofMillis(400)).build();
            try (Session session = Smux.connect(silent.getLocalSocketAddress(), c); RawPeer p = peer.get(5, TimeUnit.SECONDS)) {
                SmuxStream stream = session.openStream();
                long t0 = System.nanoTime();
                SessionClosedException e = assertInstanceOf(SessionClosedException.class,
                        ContractSuite.catching(() -> stream.read(ByteBuffer.allocate(1))));
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms >= 300 && ms < 2000, "closed after " + ms + " ms");
                assertTrue(e.getMessage().contains("keepalive"), e.getMessage());
                assertTrue(session.closeCause().isPresent());
                // it did send keepalives meanwhile: SYN, then NOPs
                p.socket.setSoTimeout(1000);
                byte[] head = p.in.readNBytes(16);
                assertEquals(0, head[1], "SYN first");
                assertEquals(3, head[9], "then a NOP");
            }
        }
    }

    @Test
    @Timeout(30)
    void thePeerClosingTheConnectionEndsTheSession() throws Exception {
        try (ServerSocket listener = RawPeer.listen()) {
            CompletableFuture<RawPeer> peer = OwnThreads.supply(() -> {
                try {
                    return RawPeer.accept(listener);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            try (Session session = Smux.connect(listener.getLocalSocketAddress(), config().build())) {
                SmuxStream stream = session.openStream();
                RawPeer p = peer.get(5, TimeUnit.SECONDS);
                // the peer sends some data on the stream, then goes away without FIN
                p.send(RawPeer.frame(2, 2, 3, "partial".getBytes(StandardCharsets.US_ASCII)));
                p.close();
                byte[] got = stream.inputStream().readNBytes(7);
                assertEquals("partial", new String(got, StandardCharsets.US_ASCII), "buffered data is still read");
                Object after = ContractSuite.catching(() -> stream.read(ByteBuffer.allocate(1)));
                SessionClosedException e = assertInstanceOf(SessionClosedException.class, after,
                        "no FIN came, so the end must not look like end-of-stream");
                // Usually the EOF is read first ("the peer closed the connection"); a window update
                // for the bytes just read may race it and meet the closed socket first ("the
                // connection failed: Broken pipe"). Either way the session ended, not the stream.
                assertTrue(e.getMessage().contains("peer closed") || e.getMessage().contains("connection failed"),
                        e.getMessage());
            }
        }
    }

    // ------------------------------------------------------------------ probe

    @Test
    @Timeout(30)
    void theProbeRecognisesAnSmuxServerAndTheSessionGoesOnOnTheSameSocket() throws Exception {
        SmuxConfig c = config().build();
        try (ServerSocketChannel listener = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            CompletableFuture<Session> server = OwnThreads.supply(() -> {
                try {
                    SocketChannel ch = listener.accept();
                    return Smux.server(ch, c);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            SocketChannel channel = SocketChannel.open(listener.getLocalAddress());
            assertTrue(Smux.isSmux(channel.socket(), c));
            try (Session client = Smux.client(channel, c); Session s = server.get(5, TimeUnit.SECONDS)) {
                assertTrue(Bytes.await(2000, s::isPeerVerified), "the server learns the client is this library");
                SmuxStream stream = client.openStream();
                stream.outputStream().write(5);
                assertEquals(5, s.acceptStream(Duration.ofSeconds(5)).inputStream().read());
            }
        }
    }

    @Test
    @Timeout(30)
    void theProbeSaysNoToAnEchoServer() throws Exception {
        assertFalse(probeAgainst(peer -> peer.in.transferTo(peer.out)));
    }

    @Test
    @Timeout(30)
    void theProbeSaysNoToASilentPeerAfterItsTimeout() throws Exception {
        long t0 = System.nanoTime();
        assertFalse(probeAgainst(peer -> peer.in.readAllBytes()));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms >= 250 && ms < 3000, "answered after " + ms + " ms");
    }

    @Test
    @Timeout(30)
    void theProbeSaysNoToAnHttpServerAndToAPeerThatHangsUp() throws Exception {
        assertFalse(probeAgainst(peer -> peer.send("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.US_ASCII))));
        assertFalse(probeAgainst(RawPeer::close));
    }

    @Test
    @Timeout(30)
    void isSmuxByAddressThrowsOnlyWhenTheConnectionCannotBeMade() throws Exception {
        InetSocketAddress nobody;
        try (ServerSocket s = RawPeer.listen()) {
            nobody = (InetSocketAddress) s.getLocalSocketAddress();
        }
        assertInstanceOf(IOException.class, ContractSuite.catching(() -> Smux.isSmux(nobody, config().build())));
    }

    interface PeerScript {
        void run(RawPeer peer) throws IOException;
    }

    boolean probeAgainst(PeerScript script) throws Exception {
        try (ServerSocket listener = RawPeer.listen()) {
            CompletableFuture<Void> peer = OwnThreads.run(() -> {
                try (RawPeer p = RawPeer.accept(listener)) {
                    script.run(p);
                } catch (IOException ignored) {
                    // the probe may close first
                }
            });
            try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort())) {
                boolean answer = Smux.isSmux(socket, config().probeTimeout(Duration.ofMillis(300)).build());
                socket.close();
                peer.get(5, TimeUnit.SECONDS);
                return answer;
            }
        }
    }
}
