package smux.it.interop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import smux.api.ProbeResult;
import smux.api.ProtocolException;
import smux.api.Session;
import smux.api.SessionClosedException;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.it.interop.GoPeer.Release;
import smux.it.interop.GoPeer.StreamReport;

/**
 * One Java server port with {@link SmuxConfig#VERSION_AUTO}: Go clients (both pinned xtaci/smux
 * releases) and Java clients of version 1 and version 2 take turns on it, each getting a session of
 * its own version; the probe of either version is answered; a first frame of another version is
 * refused with a protocol error naming it; a client cannot be configured with AUTO.
 */
class AutoVersionInteropTest {
    private static final int GO_STREAMS = 4;
    private static final long GO_BYTES = 300_000;

    static Stream<Arguments> cells() {
        List<Arguments> a = new ArrayList<>();
        for (Release r : Release.values()) {
            for (String transport : List.of("socket", "nio")) {
                a.add(Arguments.of(r, transport));
            }
        }
        return a.stream();
    }

    private static SmuxConfig auto(String transport) {
        return SmuxConfig.builder().version(SmuxConfig.VERSION_AUTO).transport(transport).build();
    }

    @ParameterizedTest(name = "Go {0}, Java server on {1}")
    @MethodSource("cells")
    @Timeout(180)
    void goAndJavaClientsOfBothVersionsTakeTurnsOnOnePort(Release release, String transport) throws Exception {
        try (JavaServer server = JavaServer.start(auto(transport), JavaModes.echoServer())) {
            int finished = 0;
            for (int round = 0; round < 2; round++) {
                for (int version : new int[] {1, 2}) {
                    String who = "round " + round + ", version " + version;
                    try (GoPeer go = GoPeer.client(release, server.address(), "-version", Integer.toString(version),
                            "-mode", "echo", "-timeout", "60s", "-streams", Integer.toString(GO_STREAMS),
                            "-content", "random", "-seed", Integer.toString(10 * round + version),
                            "-bytes", Long.toString(GO_BYTES))) {
                        go.awaitSuccess(Duration.ofSeconds(90));
                        List<StreamReport> reports = go.streams(1);
                        assertEquals(GO_STREAMS, reports.size(), who + go.diagnostics());
                        for (StreamReport r : reports) {
                            assertEquals("", r.err(), who + ": Go stream " + r.id() + go.diagnostics());
                            assertEquals(GO_BYTES, r.bytesOut(), who);
                            assertEquals(GO_BYTES, r.bytesIn(), who + ": the echo came back whole");
                            assertEquals(r.sha256Out(), r.sha256In(), who + ": the echo is the same bytes");
                        }
                    }
                    finished += GO_STREAMS;
                    server.awaitResults(finished, Duration.ofSeconds(30));

                    javaClientRoundTrip(server.address(), version, transport, 10 * round + version);
                    finished += 1;
                    server.awaitResults(finished, Duration.ofSeconds(30));
                }
            }
            assertEquals(List.of(), server.failures());
            assertTrue(server.awaitResults(finished, Duration.ofSeconds(1)).stream().allMatch(JavaModes.Result::ok),
                    "every stream the server echoed ended well");
            for (Session s : server.sessions()) {
                s.closeCause().ifPresent(c -> assertTrue(!(c.getCause() instanceof ProtocolException),
                        "no session ended with a protocol error: " + c));
            }
        }
    }

    private static void javaClientRoundTrip(InetSocketAddress address, int version, String transport, long seed) throws IOException {
        byte[] data = new byte[200_000];
        new Random(seed).nextBytes(data);
        SmuxConfig config = SmuxConfig.builder().version(version).transport(transport).build();
        try (Session session = Smux.connect(address, config)) {
            SmuxStream stream = session.openStream();
            stream.setReadTimeout(Duration.ofSeconds(30));
            Thread writer = new Thread(() -> {
                try {
                    OutputStream out = stream.outputStream();
                    out.write(data);
                    stream.closeWrite();
                } catch (IOException ignored) {
                    // the reader sees the failure
                }
            }, "auto-version-writer");
            writer.start();
            InputStream in = stream.inputStream();
            byte[] back = in.readAllBytes();
            try {
                writer.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            assertArrayEquals(data, back, "version " + version + " Java client: the echo");
            stream.close();
        }
    }

    @Test
    @Timeout(60)
    void theProbeOfEitherVersionIsAnsweredAndAnotherVersionIsRefusedByName() throws Exception {
        try (JavaServer server = JavaServer.start(auto("socket"), JavaModes.echoServer())) {
            for (int version : new int[] {1, 2, 1, 2}) {
                assertEquals(ProbeResult.SMUX, Smux.probe(server.address(), SmuxConfig.builder().version(version).build()),
                        "probe of version " + version);
            }
            int before = server.sessions().size();
            try (Socket raw = new Socket(server.address().getAddress(), server.address().getPort())) {
                raw.setSoTimeout(10_000);
                // SYN for stream 3 with VER 3
                raw.getOutputStream().write(new byte[] {3, 0, 0, 0, 3, 0, 0, 0});
                assertEquals(-1, raw.getInputStream().read(), "the server closes the connection, answering nothing");
            }
            Session refused = awaitSessions(server, before + 1).get(before);
            SessionClosedException cause = awaitCloseCause(refused);
            ProtocolException pe = assertInstanceOf(ProtocolException.class, cause.getCause(), cause.toString());
            assertEquals(ProtocolException.Violation.WRONG_VERSION, pe.violation());
            assertTrue(pe.getMessage().contains("version 3"), pe.getMessage());
        }
    }

    @Test
    void aClientCannotBeAuto() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Smux.connect(new InetSocketAddress("127.0.0.1", 9), auto("socket")));
        assertTrue(e.getMessage().contains("version 1 or 2"), e.getMessage());
    }

    private static List<Session> awaitSessions(JavaServer server, int count) throws InterruptedException {
        await(() -> server.sessions().size() >= count, "the server did not start session " + count);
        return server.sessions();
    }

    private static SessionClosedException awaitCloseCause(Session s) throws InterruptedException {
        await(() -> s.closeCause().isPresent(), "the session did not close");
        return s.closeCause().get();
    }

    /** Polls {@code done} for up to 10 s (what it waits for has no event to block on). */
    private static void await(java.util.function.BooleanSupplier done, String failure) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(failure);
            }
            Thread.sleep(10);
        }
    }
}
