package smux.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code smux probe} answers what is true, and promptly: this library, the other version, a peer
 * that closes on the probe frame as Go xtaci/smux does (a real Go server among them), TLS, other.
 */
class ProbeIT {
    private static final Pattern MILLIS = Pattern.compile("in (\\d+) ms");
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void tearDown() throws Exception {
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
    }

    @Test
    @Timeout(90)
    void aServerByDefaultAnswersTheProbeOfEitherVersion() throws Exception {
        try (Cli server = Cli.start("serve", "--listen", "127.0.0.1:0")) {
            String listening = server.awaitLine("listening on", 30);
            assertTrue(listening.contains("protocol auto"), listening);
            int port = Cli.port(listening);
            for (String version : new String[] {"1", "2", "1", "2"}) {
                try (Cli probe = Cli.quick("probe", "--protocol", version, "127.0.0.1:" + port)) {
                    assertEquals(0, probe.exitCode(30), probe.output());
                    assertTrue(probe.output().contains("speaks smux protocol version " + version), probe.output());
                }
            }
        }
    }

    @Test
    @Timeout(90)
    void itTellsTheVersionsApartAndAnswersAServerThatClosesWithinASecond() throws Exception {
        try (Cli server = Cli.start("serve", "--listen", "127.0.0.1:0", "--protocol", "2")) {
            int port = Cli.port(server.awaitLine("listening on", 30));

            try (Cli same = Cli.quick("probe", "127.0.0.1:" + port)) {
                assertEquals(0, same.exitCode(30), same.output());
                assertTrue(same.output().contains("speaks smux protocol version 2"), same.output());
            }
            try (Cli other = Cli.quick("probe", "--protocol", "1", "--timeout", "5000", "127.0.0.1:" + port)) {
                assertEquals(ProbeCommand.OTHER_VERSION, other.exitCode(30), other.output());
                String out = other.output();
                assertTrue(out.contains("speaks smux protocol version 2, not 1") && out.contains("versions differ"), out);
                assertTrue(answeredWithin(out, 1000), "answered within a second of its 5 s timeout: " + out);
            }
            String serverSide = server.awaitLine("another protocol version", 10);
            assertTrue(serverSide.contains("session from 127.0.0.1:"), "the server names the peer: " + serverSide);
        }

        try (ServerSocket closing = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            pool.execute(() -> {
                while (!closing.isClosed()) {
                    try (Socket s = closing.accept()) {
                        s.getInputStream().read(new byte[0]); // and close at once
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            long t0 = System.nanoTime();
            try (Cli no = Cli.quick("probe", "--timeout", "5000", "127.0.0.1:" + closing.getLocalPort())) {
                assertEquals(ProbeCommand.CLOSED_ON_PROBE, no.exitCode(30), no.output());
                String out = no.output();
                assertTrue(out.contains("closed the connection on the probe frame without answering")
                        && out.contains("cannot tell more") && answeredWithin(out, 1000), out);
            }
            assertTrue((System.nanoTime() - t0) / 1_000_000_000 < 5 + 5, "the process did not wait out the timeout");
        }
    }

    @Test
    @Timeout(60)
    void anHttpServerIsNotSmuxAndAClosedPortIsNoConnection() throws Exception {
        try (ServerSocket plain = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            pool.execute(() -> {
                try (Socket s = plain.accept()) {
                    s.getOutputStream().write("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes());
                    s.getInputStream().readAllBytes();
                } catch (IOException ignored) {
                    // the probe hung up
                }
            });
            try (Cli no = Cli.quick("probe", "127.0.0.1:" + plain.getLocalPort())) {
                assertEquals(1, no.exitCode(30), no.output());
                assertTrue(no.output().contains("does not speak smux (it answered something else"), no.output());
            }
        }
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        try (Cli refused = Cli.quick("probe", "127.0.0.1:" + closed)) {
            assertEquals(2, refused.exitCode(30), refused.output());
        }
    }

    @Test
    @Timeout(120)
    void aGoXtaciSmuxServerIsNamedAsLikelyGoNotAsNotSmux() throws Exception {
        try (GoServer go = GoServer.echo(); Cli probe = Cli.quick("probe", "--timeout", "5000", go.address)) {
            assertEquals(ProbeCommand.CLOSED_ON_PROBE, probe.exitCode(60), probe.output());
            String out = probe.output();
            assertTrue(out.contains("as Go xtaci/smux servers do") && out.contains("a Go smux server is likely")
                    && out.contains("the probe cannot tell more"), out);
            assertTrue(answeredWithin(out, 2000), "the Go server closes at once, no wait for the timeout: " + out);
        }
    }

    @Test
    @Timeout(90)
    void aTlsPortIsNamedAsTls(@TempDir Path dir) throws Exception {
        Keys keys = Keys.make(dir, "probed");
        try (Cli server = Cli.start(List.of(), Map.of("SMUX_TLS_PASSWORD", Keys.PASSWORD), "tunnel", "server", "--listen",
                "127.0.0.1:0", "--target", "127.0.0.1:9", "--tls", "--tls-key", keys.p12.toString())) {
            int port = Cli.port(server.awaitLine("listening on", 30));
            try (Cli probe = Cli.quick("probe", "127.0.0.1:" + port)) {
                assertEquals(1, probe.exitCode(30), probe.output());
                assertTrue(probe.output().contains("speaks TLS, not plain smux"), probe.output());
            }
            server.awaitLine("sent plain smux to this TLS port", 10);
        }
    }

    private static boolean answeredWithin(String out, long millis) {
        Matcher m = MILLIS.matcher(out);
        return m.find() && Long.parseLong(m.group(1)) < millis;
    }
}
