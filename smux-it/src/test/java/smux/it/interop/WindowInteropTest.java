package smux.it.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import smux.it.interop.FrameRelay.Dir;
import smux.it.interop.FrameRelay.WindowAudit;

/**
 * Version 2 flow control against Go xtaci/smux, both ways, through a {@link FrameRelay} that audits every
 * data frame against the receiver's window updates.
 *
 * <ul>
 *   <li><b>Java receiving from Go.</b> A Go sender starts with xtaci's guess of the peer's window, 262144
 *       bytes, whatever the Java side will advertise. The Java reader waits until the relay has forwarded
 *       those 262144 bytes before its first read, so a Java window of 64 KiB is overrun by the guess for
 *       certain, exactly as SPEC.md section 2 allows; Java must accept it (no {@code WINDOW_OVERRUN}) and the
 *       8 MiB transfers must complete. Also with the default 512 KiB window.</li>
 *   <li><b>Java sending to Go.</b> The Go receiver advertises a 16 KiB window ({@code -stream-buffer}); the
 *       relay checks that Java never has more out than {@code max(262144, consumed + window)} of Go's
 *       latest update, and the 4 MiB transfers complete.</li>
 * </ul>
 */
class WindowInteropTest {
    static final long MIB = 1024 * 1024;
    static final int GO_WINDOW = 16 * 1024;

    static List<Combo> v2() {
        return Combo.where(c -> c.protocol() == 2);
    }

    static Stream<Arguments> v2WithJavaWindows() {
        List<Arguments> args = new ArrayList<>();
        for (Combo c : v2()) {
            args.add(Arguments.of(c, 64 * 1024));
            args.add(Arguments.of(c, 512 * 1024));
        }
        return args.stream();
    }

    @ParameterizedTest(name = "{0}, Java window {1}")
    @MethodSource("v2WithJavaWindows")
    @Timeout(60)
    void javaReceiverAcceptsTheGoSendersInitialGuess(Combo c, int javaWindow) throws Exception {
        Dir goSends = c.javaIsClient() ? Dir.DOWN : Dir.UP;
        Exchange.Outcome o = Exchange.of(c)
                .mode(c.javaIsClient() ? "source" : "discard")
                .streams(2).bytes(8 * MIB)
                .javaConfig(b -> b.streamWindow(javaWindow))
                .viaRelay(false)
                .javaReadGate(relay -> id -> relay.awaitForwarded(goSends, id, FrameRelay.INITIAL_PEER_WINDOW,
                        Duration.ofSeconds(20)))
                .run()
                .assertAllMatch(2);
        assertEquals(16 * MIB, o.javaBytesIn(), c + ": all data arrived");
        WindowAudit audit = o.relay().windowAudit(goSends);
        assertEquals(List.of(), audit.violations(), c + ": the Go sender stayed within max(262144, consumed + window)");
        assertEquals(javaWindow, audit.smallestWindow(), c + ": the window Java advertised");
        assertTrue(audit.maxInflight() >= FrameRelay.INITIAL_PEER_WINDOW,
                c + ": the Go sender had its initial guess in flight (max " + audit.maxInflight() + ")");
        assertEquals(List.of(), o.relay().decodeProblems());
    }

    /**
     * Issue 10: a Go sender follows a Java receiver whose window tunes itself. The Java side starts at
     * 64 KiB and may grow to 8 MiB; the relay checks every Go data frame against the right edge of
     * every update Java sent (the largest {@code consumed + window}: a shrink takes back nothing), and
     * the windows Java advertised must have changed while 32 MiB went through.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("v2")
    @Timeout(60)
    void aGoSenderFollowsATunedJavaWindow(Combo c) throws Exception {
        Dir goSends = c.javaIsClient() ? Dir.DOWN : Dir.UP;
        Exchange.Outcome o = Exchange.of(c)
                .mode(c.javaIsClient() ? "source" : "discard")
                .streams(2).bytes(16 * MIB)
                .javaConfig(b -> b.streamWindowTuned(64 * 1024, 8 << 20))
                .viaRelay(false)
                .run()
                .assertAllMatch(2);
        assertEquals(32 * MIB, o.javaBytesIn(), c + ": all data arrived");
        WindowAudit audit = o.relay().windowAudit(goSends);
        assertEquals(List.of(), audit.violations(), c + ": the Go sender stayed within the right edge of Java's updates");
        assertEquals(64 * 1024, audit.smallestWindow(), c + ": Java's first window");
        assertTrue(audit.largestWindow() > audit.smallestWindow(), c + ": Java's window changed while Go sent: "
                + audit.smallestWindow() + ".." + audit.largestWindow());
        assertEquals(List.of(), o.relay().decodeProblems());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("v2")
    @Timeout(60)
    void javaSenderRespectsTheGoReceiversWindow(Combo c) throws Exception {
        Dir javaSends = c.javaIsClient() ? Dir.UP : Dir.DOWN;
        Exchange.Outcome o = Exchange.of(c)
                .mode(c.javaIsClient() ? "discard" : "source")
                .halfClose(c.javaIsClient()) // the Java client waits for Go's FIN: Go has read everything
                .streams(2).bytes(4 * MIB)
                .goFlags("-stream-buffer", Integer.toString(GO_WINDOW))
                .viaRelay(false)
                .run()
                .assertAllMatch(2);
        assertEquals(8 * MIB, o.javaBytesOut(), c + ": all data was sent");
        WindowAudit audit = o.relay().windowAudit(javaSends);
        assertEquals(List.of(), audit.violations(), c + ": Java stayed within max(262144, consumed + window)");
        assertEquals(GO_WINDOW, audit.smallestWindow(), c + ": the window Go advertised");
        // xtaci sends an update per read once half its window was read; how many depends on how reads are chunked
        assertTrue(audit.updates() >= 8 * MIB / (4 * GO_WINDOW),
                c + ": Go kept updating its window (" + audit.updates() + " updates)");
        assertEquals(List.of(), o.relay().decodeProblems());
    }
}
