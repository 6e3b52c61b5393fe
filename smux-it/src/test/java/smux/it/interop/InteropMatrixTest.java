package smux.it.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import smux.api.MemoryBudget;
import smux.api.ProbeResult;
import smux.api.Session;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.it.OwnThreads;
import smux.it.interop.Combo.Direction;
import smux.it.interop.FrameRelay.Dir;
import smux.it.interop.FrameRelay.Frame;
import smux.it.interop.GoPeer.Release;
import smux.it.interop.GoPeer.StreamReport;

/**
 * Live traffic between this library and Go xtaci/smux over loopback TCP, for every cell of the matrix
 * {v1.5.16, v1.5.58} x {Java client -> Go server, Go client -> Java server} x {v1, v2} x {socket, nio}:
 * concurrent streams with checksums, every frame size, half-close, close, open/close in a row, and the
 * probe. Keepalive and flow control against Go are in {@link KeepaliveInteropTest} and
 * {@link WindowInteropTest}.
 *
 * <p>v1.5.16 cannot half-close (no {@code CloseWrite}), so only the Java side half-closes towards it.
 */
class InteropMatrixTest {
    static final long MIB = 1024 * 1024;
    static final int[] FRAME_SIZES = {1, 4096, 32768, 65535};

    static List<Combo> all() {
        return Combo.all();
    }

    static Stream<Arguments> allWithFrameSizes() {
        List<Arguments> args = new ArrayList<>();
        for (Combo c : Combo.all()) {
            for (int f : FRAME_SIZES) {
                args.add(Arguments.of(c, f));
            }
        }
        return args.stream();
    }

    /** Where a half-close can be sent: by Java to either release, by Go only where it has CloseWrite. */
    static List<Combo> halfCloseCapable() {
        return Combo.where(c -> c.javaIsClient() || c.release().halfClose);
    }

    static List<Combo> javaClients() {
        return Combo.where(Combo::javaIsClient);
    }

    /**
     * The four cells that carry the full load (100 streams, sizes up to 8 MiB, about 400 MiB each way):
     * between them they cover both releases, both directions, both protocol versions and both transports.
     */
    static boolean heavy(Combo c) {
        return List.of(
                new Combo(Release.V1_5_16, Direction.JAVA_CLIENT, 1, "socket"),
                new Combo(Release.V1_5_16, Direction.GO_CLIENT, 2, "nio"),
                new Combo(Release.V1_5_58, Direction.JAVA_CLIENT, 2, "nio"),
                new Combo(Release.V1_5_58, Direction.GO_CLIENT, 1, "socket")).contains(c);
    }

    /**
     * 100 concurrent echo streams with random sizes and random content; each side hashes what it sent and
     * received (SHA-256) and the digests are compared stream by stream; the Java client also checks every
     * echoed byte, and the Go client does the same.
     *
     * <p>Scaled for the build's time budget: the {@link #heavy} cells draw sizes up to 8 MiB (about 400 MiB
     * each way, echoed); the other twelve up to 512 KiB. Every cell runs 100 concurrent streams.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("all")
    @Timeout(120)
    void hundredConcurrentStreamsWithChecksums(Combo c) throws Exception {
        long max = heavy(c) ? 8 * MIB : 512 * 1024;
        Exchange.of(c).mode("echo").streams(100).randomSizes(max, 42).run().assertAllMatch(100);
    }

    /**
     * Both sides use the same maximum frame size (Java {@code maxFrameSize}, Go {@code -frame}); data goes one
     * way in discard mode (the client sends) and the other way in source mode (the server sends), always in
     * 64 KiB application writes. The relay checks each direction: the largest data frame is exactly the frame
     * size (none larger, and the size really used; smaller ones are legal: a write's last piece, or a frame cut
     * to the remaining window). Frame size 1 carries 4 KiB per direction (4096 one-byte frames), the others two
     * streams of 512 KiB.
     */
    @ParameterizedTest(name = "{0}, frame {1}")
    @MethodSource("allWithFrameSizes")
    @Timeout(60)
    void frameSizesBothWays(Combo c, int frame) throws Exception {
        int streams = frame == 1 ? 1 : 2;
        long bytes = frame == 1 ? 4096 : 512 * 1024;
        for (String mode : List.of("discard", "source")) {
            Exchange.Outcome o = Exchange.of(c).mode(mode).streams(streams).bytes(bytes)
                    .goFlags("-frame", Integer.toString(frame))
                    .javaConfig(b -> b.maxFrameSize(frame))
                    .viaRelay(false).run().assertAllMatch(streams);
            Dir d = mode.equals("discard") ? Dir.UP : Dir.DOWN;
            List<Frame> data = o.relay().frames(d).stream().filter(f -> f.cmd() == FrameRelay.PSH)
                    .collect(Collectors.toList());
            long total = data.stream().mapToLong(Frame::length).sum();
            int largest = data.stream().mapToInt(Frame::length).max().orElse(0);
            assertEquals(streams * bytes, total, c + ": data bytes " + d);
            assertEquals(frame, largest, c + ": largest data frame " + d + " (" + data.size() + " frames)");
            assertEquals(List.of(), o.relay().decodeProblems());
        }
    }

    /**
     * Half-close: the client ends its side with closeWrite (Java) or {@code Stream.CloseWrite} (Go v1.5.58)
     * and reads on; the server finishes its echo after the FIN and closes. Also in discard mode, where the
     * client waits for the server's FIN. Scaled: against a v1.5.16 v2 server the echo stays below the
     * 262144-byte initial window (128 KiB), because a v1.5.16 writer that must wait for a window update
     * after the peer's FIN fails with EOF (a v1.5.16 limitation, see interop/README.md); elsewhere 1 MiB.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("halfCloseCapable")
    @Timeout(60)
    void halfClose(Combo c) throws Exception {
        boolean limited = c.release() == Release.V1_5_16 && c.protocol() == 2;
        long bytes = limited ? 128 * 1024 : MIB;
        Exchange.of(c).mode("echo").streams(4).bytes(bytes).halfClose(true).run().assertAllMatch(4);
        Exchange.of(c).mode("discard").streams(4).bytes(bytes).halfClose(true).run().assertAllMatch(4);
    }

    /**
     * Full close: the client sends, reads the whole echo back and closes the stream (FIN, without a
     * half-close first); the server reads to the FIN and closes too. Ten streams of 256 KiB.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("all")
    @Timeout(60)
    void fullClose(Combo c) throws Exception {
        Exchange.of(c).mode("echo").streams(10).bytes(256 * 1024).run().assertAllMatch(10);
    }

    /**
     * A stream closed while the peer still sends on it: the closing side forgets the stream and drops what
     * arrives later, the sender finishes normally, and the session goes on (a new stream works). Java
     * client: it writes 100 KiB to a Go echo server and closes without reading the echo. Go client: the Java
     * server closes each stream as soon as it is accepted while the Go client writes 100 KiB into it. The
     * size stays below the 262144-byte initial window, so no Go writer needs a window update that a closed
     * stream never sends.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("all")
    @Timeout(60)
    void closeWithDataInFlight(Combo c) throws Exception {
        int size = 100 * 1024;
        if (c.javaIsClient()) {
            try (GoPeer server = GoPeer.server(c.release(), "-version", Integer.toString(c.protocol()), "-mode", "echo");
                 Session session = Smux.connect(server.address(), c.javaConfig().build())) {
                for (int i = 0; i < 5; i++) {
                    SmuxStream s = session.openStream();
                    s.outputStream().write(new byte[size]);
                    s.close();
                }
                List<StreamReport> abandoned = server.awaitStreams(1, 5, Duration.ofSeconds(30));
                for (StreamReport r : abandoned) {
                    assertEquals("", r.err(), c + ": Go stream " + r.id() + server.diagnostics());
                    assertEquals(size, r.bytesIn(), c + ": Go read all of stream " + r.id());
                }
                echoOnce(session, c);
                assertTrue(session.closeCause().isEmpty(), () -> c + ": " + session.closeCause());
            }
        } else {
            JavaModes.Body closeAtOnce = (s, in, out) -> s.close();
            try (JavaServer js = JavaServer.start(c.javaConfig().build(), closeAtOnce);
                 GoPeer client = GoPeer.client(c.release(), js.address(), "-version", Integer.toString(c.protocol()),
                         "-mode", "discard", "-streams", "5", "-bytes", Integer.toString(size))) {
                client.awaitSuccess(Duration.ofSeconds(60));
                js.awaitResults(5, Duration.ofSeconds(10));
                for (StreamReport r : client.streams(1)) {
                    assertEquals(size, r.bytesOut(), c + ": Go wrote all of stream " + r.id());
                }
                Optional<smux.api.SessionClosedException> cause = js.awaitSession(Duration.ofSeconds(1)).closeCause();
                assertFalse(cause.isPresent() && cause.get().getCause() instanceof smux.api.ProtocolException,
                        () -> c + ": " + cause);
                assertTrue(js.failures().isEmpty(), () -> c + ": " + js.failures());
            }
        }
    }

    /**
     * One stream opened, written (16 bytes) and closed 10,000 times in a row on one session; ids run up to
     * 20001. The server reads each to its FIN and closes it; both sides report every stream, with matching
     * digests.
     *
     * <p>Scaled: the client does not wait for a reply before opening the next stream (discard mode), so
     * opens and closes pipeline: an echo round trip per stream costs about 0.5 ms on loopback (as much
     * Go to Go), 5 s per cell. The Java server's accept backlog and stream cap are raised so that a burst
     * of streams is not refused (the default 1024 would refuse some, by design).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("all")
    @Timeout(120)
    void openAndClose10000Times(Combo c) throws Exception {
        Exchange.of(c).mode("discard").iterations(10_000).bytes(16)
                // a Go client may run far ahead of the Java server: up to 10,000 streams open at once, each
                // with the memory a v2 peer may fill reserved, so the budgets are raised with maxStreams
                .javaConfig(b -> b.acceptBacklog(20_000).maxStreams(20_000).maxSessionBuffer(10_000L << 19)
                        .memoryBudget(MemoryBudget.of(20_000L << 19)))
                .run().assertAllMatch(10_000);
    }

    /**
     * The probe ({@code Smux.probe}) against a Go server answers {@link ProbeResult#CLOSED} at once (xtaci
     * takes the unknown command as a protocol error; the Go peer then closes the connection) instead of
     * waiting for its timeout, and the Go server, having lost only that connection, serves a new session.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("javaClients")
    @Timeout(60)
    void probeAgainstGoSaysNoPromptlyAndLeavesGoRunning(Combo c) throws Exception {
        try (GoPeer server = GoPeer.server(c.release(), "-version", Integer.toString(c.protocol()), "-mode", "echo")) {
            SmuxConfig probeConfig = c.javaConfig().probeTimeout(Duration.ofSeconds(10)).build();
            long started = System.nanoTime();
            ProbeResult result;
            try (Socket socket = new Socket(server.address().getAddress(), server.address().getPort())) {
                result = Smux.probe(socket, probeConfig);
            }
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            assertEquals(ProbeResult.CLOSED, result, c + ": a plain xtaci/smux peer closes the connection on the probe frame");
            assertTrue(took.compareTo(Duration.ofSeconds(2)) < 0, c + ": the probe took " + took.toMillis()
                    + " ms; it should not wait for its 10 s timeout");
            String kind = server.awaitSessionClosed(1, Duration.ofSeconds(10)).str("kind");
            assertEquals("protocol", kind, c + ": how the Go side ended the probed connection" + server.diagnostics());

            assertTrue(server.isAlive(), c + ": the Go server is still running");
            try (Session session = Smux.connect(server.address(), c.javaConfig().build())) {
                echoOnce(session, c);
            }
            List<StreamReport> served = server.awaitStreams(2, 1, Duration.ofSeconds(10));
            assertEquals("", served.get(0).err(), c + server.diagnostics());
        }
    }

    /** One small echo on a new stream: the session works. */
    static void echoOnce(Session session, Combo c) throws Exception {
        JavaModes.Result r = JavaModes.run(session.openStream(), true,
                JavaModes.echoClient(Content.random(7, 0), 10_000, false, OwnThreads.EACH));
        assertTrue(r.ok(), () -> c + ": echo on a new stream failed: " + r.error());
    }
}
