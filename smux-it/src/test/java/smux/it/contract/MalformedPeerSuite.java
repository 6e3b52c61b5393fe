package smux.it.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import smux.api.ProtocolException;
import smux.api.ProtocolException.Violation;
import smux.api.Session;
import smux.api.SessionClosedException;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.it.OwnThreads;

/**
 * A raw peer sends malformed frames to a server session: the session must close within a second
 * with a {@link ProtocolException} that names the broken rule, and its connection must be closed,
 * while another session in the same process carries on untouched.
 */
abstract class MalformedPeerSuite {
    abstract String transport();

    static Stream<Arguments> malformed() {
        byte[] none = new byte[0];
        return Stream.of(
                Arguments.of("wrong version", Violation.WRONG_VERSION, RawPeer.frame(1, 0, 3, none)),
                Arguments.of("unknown command", Violation.UNKNOWN_COMMAND, RawPeer.frame(2, 9, 3, none)),
                Arguments.of("SYN with a payload", Violation.BAD_LENGTH, RawPeer.frame(2, 0, 3, new byte[4])),
                Arguments.of("FIN with a payload", Violation.BAD_LENGTH, RawPeer.frame(2, 1, 3, new byte[1])),
                Arguments.of("NOP with a payload", Violation.BAD_LENGTH, RawPeer.frame(2, 3, 0, new byte[2])),
                Arguments.of("short UPD", Violation.BAD_LENGTH, RawPeer.frame(2, 4, 3, new byte[4])),
                Arguments.of("SYN with the server's parity", Violation.BAD_STREAM_ID, RawPeer.frame(2, 0, 4, none)),
                Arguments.of("SYN for stream 0", Violation.BAD_STREAM_ID, RawPeer.frame(2, 0, 0, none)),
                Arguments.of("VRM on a stream", Violation.BAD_SESSION_FRAME, RawPeer.frame(2, 0x7F, 3, RawPeer.pair(1, 2))),
                Arguments.of("data beyond the window", Violation.WINDOW_OVERRUN, overrun()),
                Arguments.of("UPD acknowledging unsent bytes", Violation.NEGATIVE_INFLIGHT,
                        concat(RawPeer.frame(2, 0, 3, none), RawPeer.frame(2, 4, 3, RawPeer.pair(10, 65536)))));
    }

    /** SYN, then 262144 + 1 bytes on a stream nobody reads (the window allows 262144 before any UPD). */
    static byte[] overrun() {
        byte[] out = RawPeer.frame(2, 0, 3, new byte[0]);
        byte[] chunk = RawPeer.frame(2, 2, 3, new byte[65536 - 8 - 8]);
        int total = 0;
        while (total + 65520 <= 262144) {
            out = concat(out, chunk);
            total += 65520;
        }
        out = concat(out, RawPeer.frame(2, 2, 3, new byte[262144 - total + 1]));
        return out;
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    @Timeout(30)
    void aMalformedFrameClosesOnlyThatSession(String name, Violation violation, byte[] bytes) throws Exception {
        SmuxConfig config = SmuxConfig.builder().transport(transport()).build();
        try (ServerSocketChannel listener = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             SessionPair healthy = SessionPair.open(transport())) {
            CompletableFuture<Session> victim = OwnThreads.supply(() -> {
                try {
                    SocketChannel c = listener.accept();
                    return Smux.server(c, config);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            try (RawPeer peer = RawPeer.connect((InetSocketAddress) listener.getLocalAddress())) {
                Session session = victim.get(10, TimeUnit.SECONDS);
                long t0 = System.nanoTime();
                peer.send(bytes);
                assertTrue(Bytes.await(1000, session::isClosed), name + ": the session did not close within a second");
                SessionClosedException cause = session.closeCause().orElseThrow();
                ProtocolException pe = assertInstanceOf(ProtocolException.class, cause.getCause(), cause.toString());
                assertEquals(violation, pe.violation(), pe.getMessage());
                // its connection is closed: the raw peer reads end-of-stream (or a reset)
                peer.socket.setSoTimeout(2000);
                assertTrue(readsToEnd(peer), name + ": the connection stayed open");
                assertTrue((System.nanoTime() - t0) / 1_000_000 < 3000);
            }
            // the other session in this process is untouched
            SmuxStream s = healthy.client.openStream();
            s.outputStream().write(42);
            SmuxStream a = healthy.server.acceptStream(Duration.ofSeconds(5));
            assertEquals(42, a.inputStream().read());
            assertTrue(!healthy.client.isClosed() && !healthy.server.isClosed());
        }
    }

    private static boolean readsToEnd(RawPeer peer) {
        try {
            byte[] buf = new byte[4096];
            while (peer.in.read(buf) >= 0) {
                // whatever the session sent before closing
            }
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset: closed as well
        }
    }
}
