package smux.it.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import smux.api.Session;
import smux.api.SessionClosedException;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.it.interop.Content.Tally;
import smux.it.interop.GoPeer.StreamReport;

/**
 * Keepalive against Go xtaci/smux with short intervals on both sides (NOP every 100 ms, dead after 400 ms
 * of silence), in every cell of the matrix:
 * <ul>
 *   <li>an idle session stays up on both sides for three keepalive timeouts (each side's NOPs keep the
 *       other's idle clock from running out), then carries data again;</li>
 *   <li>a session whose Go peer is frozen with SIGSTOP (it neither reads nor sends NOPs, while its socket
 *       stays open) is closed by the Java side's keepalive timeout, about 400 ms after the last frame.</li>
 * </ul>
 * The idle period is a stream read with a read timeout: it must end by timing out, not because the session
 * died.
 */
class KeepaliveInteropTest {
    static final Duration INTERVAL = Duration.ofMillis(100);
    static final Duration TIMEOUT = Duration.ofMillis(400);
    static final Duration IDLE = TIMEOUT.multipliedBy(3);
    static final String[] GO_KEEPALIVE = {"-keepalive-interval", "100ms", "-keepalive-timeout", "400ms"};

    static List<Combo> all() {
        return Combo.all();
    }

    static SmuxConfig javaConfig(Combo c) {
        return c.javaConfig().keepAlive(INTERVAL, TIMEOUT).build();
    }

    static String[] goFlags(Combo c, String... more) {
        String[] base = {"-version", Integer.toString(c.protocol())};
        String[] all = new String[base.length + GO_KEEPALIVE.length + more.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(GO_KEEPALIVE, 0, all, base.length, GO_KEEPALIVE.length);
        System.arraycopy(more, 0, all, base.length + GO_KEEPALIVE.length, more.length);
        return all;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("all")
    @Timeout(30)
    void idleSessionStaysUpForSeveralTimeouts(Combo c) throws Exception {
        if (c.javaIsClient()) {
            try (GoPeer server = GoPeer.server(c.release(), goFlags(c, "-mode", "echo"));
                 Session session = Smux.connect(server.address(), javaConfig(c));
                 SmuxStream stream = session.openStream()) {
                echo(stream, "before");
                stream.setReadTimeout(IDLE);
                long started = System.nanoTime();
                assertThrows(SocketTimeoutException.class, () -> stream.inputStream().read(),
                        c + ": the idle read must time out with the session alive");
                assertTrue(System.nanoTime() - started >= IDLE.toNanos(), "idle for the whole period");
                assertTrue(session.closeCause().isEmpty(), () -> c + ": " + session.closeCause());
                assertTrue(server.find(e -> e.name().equals("session-closed")).isEmpty(),
                        () -> c + ": the Go side closed its session" + server.diagnostics());
                stream.setReadTimeout(Duration.ZERO);
                echo(stream, "after");
                stream.close();
                StreamReport r = server.awaitStreams(1, 1, Duration.ofSeconds(10)).get(0);
                assertEquals("", r.err(), c + server.diagnostics());
                assertEquals("beforeafter".length(), r.bytesIn());
            }
        } else {
            JavaModes.Body idleThenSource = (s, in, out) -> {
                long n = JavaModes.readLengthPrefix(s.inputStream());
                s.setReadTimeout(IDLE); // the Go client sends nothing more: wait out the idle period
                assertThrows(SocketTimeoutException.class, () -> s.inputStream().read());
                assertTrue(s.session().closeCause().isEmpty(), () -> c + ": " + s.session().closeCause());
                JavaModes.writeContent(s.outputStream(), Content.pattern(), n, out, JavaModes.IO_BUFFER);
            };
            try (JavaServer js = JavaServer.start(javaConfig(c), idleThenSource);
                 GoPeer client = GoPeer.client(c.release(), js.address(),
                         goFlags(c, "-mode", "source", "-source-request", "-bytes", "1000"))) {
                client.awaitSuccess(Duration.ofSeconds(20));
                JavaModes.Result r = js.awaitResults(1, Duration.ofSeconds(10)).get(0);
                assertTrue(r.ok(), () -> c + ": " + r.error());
                assertEquals(1000, client.streams(1).get(0).bytesIn());
                String kind = client.awaitSessionClosed(1, Duration.ofSeconds(5)).str("kind");
                assertEquals("eof", kind, c + ": the Go client's session ended normally" + client.diagnostics());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("all")
    @Timeout(30)
    void frozenGoPeerIsDetectedByTheKeepaliveTimeout(Combo c) throws Exception {
        if (c.javaIsClient()) {
            try (GoPeer server = GoPeer.server(c.release(), goFlags(c, "-mode", "echo"));
                 Session session = Smux.connect(server.address(), javaConfig(c))) {
                SmuxStream stream = session.openStream();
                echo(stream, "alive");
                server.freeze();
                assertDetected(c, session, System.nanoTime());
            }
        } else {
            CountDownLatch requested = new CountDownLatch(1);
            JavaModes.Body waitForever = (s, in, out) -> {
                JavaModes.readLengthPrefix(s.inputStream());
                requested.countDown();
                s.inputStream().read(); // until the session dies
            };
            try (JavaServer js = JavaServer.start(javaConfig(c), waitForever);
                 GoPeer client = GoPeer.client(c.release(), js.address(),
                         goFlags(c, "-mode", "source", "-source-request", "-bytes", "1000"))) {
                assertTrue(requested.await(10, TimeUnit.SECONDS), c + ": the Go client's request" + client.diagnostics());
                client.freeze();
                assertDetected(c, js.awaitSession(Duration.ofSeconds(1)), System.nanoTime());
            }
        }
    }

    /** Blocks until the session dies and checks it was the keepalive, in about one timeout. */
    private static void assertDetected(Combo c, Session session, long frozenAt) throws Exception {
        SessionClosedException e = assertThrows(SessionClosedException.class, session::acceptStream,
                c + ": the session must end");
        Duration took = Duration.ofNanos(System.nanoTime() - frozenAt);
        assertTrue(e.getMessage().contains("keepalive"), c + ": closed by the keepalive timeout, not: " + e);
        // The last frame arrived at most one interval before the freeze; the check itself is not late by much.
        assertTrue(took.compareTo(TIMEOUT.minus(INTERVAL).minusMillis(50)) >= 0,
                c + ": detected after " + took.toMillis() + " ms, before the timeout could have run out");
        assertTrue(took.compareTo(TIMEOUT.plusSeconds(2)) <= 0,
                c + ": detected only after " + took.toMillis() + " ms (timeout " + TIMEOUT.toMillis() + " ms)");
        assertTrue(session.isClosed());
    }

    private static void echo(SmuxStream stream, String text) throws Exception {
        byte[] b = text.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        stream.outputStream().write(b);
        byte[] back = JavaModes.readExactly(stream.inputStream(), b.length, new Tally(false));
        assertEquals(text, new String(back, java.nio.charset.StandardCharsets.US_ASCII));
    }
}
