package smux.transport.nio;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import smux.api.Session;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.engine.VerifyCode;

/**
 * The NIO provider's own seam. A Mockito "write fails" test like the socket transport's is not
 * possible here: the session registers its channel with a Selector, which only takes the JDK's
 * own (final, non-exported) channel implementation, so a mock cannot stand in for it. What this
 * transport adds at its seam is that it needs a channel, which these tests pin down.
 */
@Timeout(20)
class NioTransportProviderTest {
    /** Each blocking party on a thread of its own: the common pool may queue it behind another. */
    private static final Executor OWN_THREAD = task -> {
        Thread t = new Thread(task, "test-peer");
        t.setDaemon(true);
        t.start();
    };

    private final NioTransportProvider provider = new NioTransportProvider();

    @Test
    void plainSocketIsRejectedWithWhatToUseInstead() throws IOException {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket plain = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
             Socket accepted = listener.accept()) {
            for (Socket s : List.of(plain, accepted)) {
                for (boolean client : new boolean[] {true, false}) {
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                            () -> provider.open(s, client, SmuxConfig.defaults()));
                    assertTrue(e.getMessage().contains("pass the SocketChannel"), e.getMessage());
                    assertTrue(e.getMessage().contains("use the socket transport"), e.getMessage());
                }
                assertFalse(s.isClosed(), "the caller keeps the socket, to hand it to the socket transport");
            }
        }
    }

    @Test
    void unconnectedPlainSocketIsRejectedTheSameWay() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> provider.open(new Socket(), true, SmuxConfig.defaults()));
        assertTrue(e.getMessage().contains("SocketChannel.open()"), e.getMessage());
    }

    @Test
    void socketOfAChannelIsAccepted() throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             SocketChannel dialed = SocketChannel.open(listener.getLocalAddress());
             SocketChannel accepted = listener.accept()) {
            CompletableFuture<Session> server = CompletableFuture.supplyAsync(() -> {
                try {
                    return provider.open(accepted.socket(), false, SmuxConfig.defaults());
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }, OWN_THREAD);
            try (Session client = provider.open(dialed.socket(), true, SmuxConfig.defaults());
                 Session serverSession = server.get(5, TimeUnit.SECONDS);
                 SmuxStream stream = client.openStream()) {
                assertEquals("nio", client.transport());
                stream.outputStream().write("over nio".getBytes(US_ASCII));
                stream.closeWrite();
                SmuxStream there = serverSession.acceptStream(Duration.ofSeconds(5));
                assertArrayEquals("over nio".getBytes(US_ASCII), there.inputStream().readAllBytes());
            }
        }
    }

    @Test
    void nameAndPriorityKeepTheSocketTransportTheDefault() {
        assertEquals("nio", provider.name());
        assertEquals(NioTransportProvider.NAME, provider.name());
        assertEquals(5, provider.priority(), "below the socket transport's 10");
        assertTrue(provider.isAvailable());
    }

    @Test
    void serviceLoaderFindsTheNioTransport() {
        assertEquals(List.of("nio"), Smux.transports());
    }

    @Test
    void probeWorksOnAPlainSocket() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket plain = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
             Socket peer = listener.accept()) {
            CompletableFuture<Void> answered = CompletableFuture.runAsync(() -> {
                try {
                    peer.setSoTimeout(10_000);
                    ByteBuffer probe = ByteBuffer.wrap(peer.getInputStream().readNBytes(16)).order(ByteOrder.LITTLE_ENDIAN);
                    ByteBuffer answer = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
                    answer.put(probe.get(0)).put((byte) 0x7F).putShort((short) 8).putInt(0)
                            .putInt(VerifyCode.answer1(probe.getInt(8))).putInt(VerifyCode.answer2(probe.getInt(12)));
                    peer.getOutputStream().write(answer.array());
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }, OWN_THREAD);

            assertEquals(smux.api.ProbeResult.SMUX, provider.probe(plain, SmuxConfig.builder().probeTimeout(Duration.ofSeconds(5)).build()),
                    "the probe needs no channel");
            answered.get(5, TimeUnit.SECONDS);
        }
    }
}
