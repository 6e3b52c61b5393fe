package smux.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The tunnel behaves like a service: it waits, reconnects, stops gracefully, says what is wrong, speaks TLS. */
class TunnelIT {
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : cleanup) {
            c.close();
        }
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
    }

    private <T extends AutoCloseable> T keep(T c) {
        cleanup.add(0, c);
        return c;
    }

    @Test
    @Timeout(240)
    void aClientStartedBeforeItsServerConnectsWhenItComesUpAndAgainAfterEachRestart() throws Exception {
        ServerSocket target = keep(Targets.echo(pool));
        int far = freePort();
        String farAddress = "127.0.0.1:" + far;
        Cli client = keep(Cli.start("tunnel", "client", "--listen", "127.0.0.1:0", "--server", farAddress));
        int near = Cli.port(client.awaitLine("smux tunnel client: listening on", 30));
        client.awaitLine("smux tunnel client: waiting for the server at " + farAddress, 30);

        Cli server = keep(Cli.start("tunnel", "server", "--listen", farAddress, "--target", "127.0.0.1:" + target.getLocalPort()));
        client.awaitLine("smux tunnel client: connected to " + farAddress, 30);
        assertTrue(Targets.roundTrip(near, 300_000, 1), "the tunnel carries traffic once the server is up");

        for (int restart = 1; restart <= 3; restart++) {
            server.terminate();
            server.exitCode(30);
            client.awaitLine("smux tunnel client: session to " + farAddress + " dropped", 30);
            server = keep(Cli.start("tunnel", "server", "--listen", farAddress, "--target", "127.0.0.1:" + target.getLocalPort()));
            server.awaitLine("listening on", 30);
            // a local connection made while the link is down waits for it, and cuts the backoff short
            assertTrue(Targets.roundTrip(near, 300_000, 1 + restart), "the tunnel carries traffic after restart " + restart);
            client.awaitLine("smux tunnel client: reconnected to " + farAddress, 5);
        }
        assertFalse(client.output().contains("unverified"), "a restart of its own kind of server is never taken for Go:\n"
                + client.output());
        assertTrue(client.output().lines().allMatch(l -> TIMESTAMP.matcher(l).lookingAt()), "every log line has its time:\n"
                + client.output());
    }

    /** The time in front of every log line: 2025-06-01 12:00:00.123 */
    private static final java.util.regex.Pattern TIMESTAMP = java.util.regex.Pattern.compile("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} smux ");

    @Test
    @Timeout(120)
    void aServerCaughtShuttingDownIsProbedAgainAndTheClientSaysConnectedOnlyOnceASessionWorks() throws Exception {
        ServerSocket target = keep(Targets.echo(pool));
        Cli server = keep(Cli.start("tunnel", "server", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:" + target.getLocalPort()));
        int serverPort = Cli.port(server.awaitLine("listening on", 30));
        // as a server in a restart: the first round's two probes find connections closed without a word (the
        // probe, then the other version's), the next round's probe is answered and the session then closed
        Front front = keep(new Front(pool, serverPort, n -> n < 2 ? Front.Act.CLOSE : n == 2 ? Front.Act.ANSWER_THEN_CLOSE
                : Front.Act.FORWARD));
        String frontAddress = "127.0.0.1:" + front.port();
        Cli client = keep(Cli.start("tunnel", "client", "--listen", "127.0.0.1:0", "--server", frontAddress));
        int near = Cli.port(client.awaitLine("listening on", 30));

        String closed = client.awaitLine("closed the connection on the smux probe frame without answering", 30);
        assertTrue(closed.contains("it may be shutting down") && closed.contains("probing again"), closed);
        String answered = client.awaitLine("answered the probe, then closed the session before it carried anything", 30);
        assertTrue(answered.contains("shutting down"), answered);
        String connected = client.awaitLine("smux tunnel client: connected to " + frontAddress, 30);
        assertFalse(connected.contains("unverified"), connected);
        String out = client.output();
        assertTrue(out.indexOf("connected to") > out.indexOf("answered the probe, then closed"),
                "no \"connected\" before a session worked:\n" + out);
        assertTrue(Targets.roundTrip(near, 200_000, 7), "the session that worked carries traffic");
    }

    @Test
    @Timeout(150)
    void aGoXtaciSmuxServerGetsAnUnverifiedSessionOnlyAfterClosingOnTheProbeTwiceAndItCarriesTraffic() throws Exception {
        GoServer go = keep(GoServer.echo());
        Cli client = keep(Cli.start("tunnel", "client", "--listen", "127.0.0.1:0", "--server", go.address));
        int near = Cli.port(client.awaitLine("listening on", 30));
        String first = client.awaitLine("closed the connection on the smux probe frame without answering", 30);
        assertTrue(first.contains("probing again") && !first.contains("connected"), first);
        String connected = client.awaitLine("smux tunnel client: connected to " + go.address, 30);
        assertTrue(connected.contains("unverified: it closed the connection on the smux probe frame without answering 2 times "
                + "in a row, as Go xtaci/smux servers do; a Go smux server is likely"), connected);
        assertTrue(Targets.roundTrip(near, 300_000, 3), "the tunnel carries traffic to the Go server's echo");
    }

    @Test
    @Timeout(150)
    void tlsOnOneEndOnlyIsNamedOnBothEnds(@TempDir Path dir) throws Exception {
        Keys keys = Keys.make(dir, "onesided");
        Map<String, String> password = Map.of("SMUX_TLS_PASSWORD", Keys.PASSWORD);

        // a plain client meets a TLS server
        Cli tlsServer = keep(Cli.start(List.of(), password, "tunnel", "server", "--listen", "127.0.0.1:0", "--target",
                "127.0.0.1:9", "--tls", "--tls-key", keys.p12.toString()));
        String tlsAddress = "127.0.0.1:" + Cli.port(tlsServer.awaitLine("listening on", 30));
        Cli plainClient = keep(Cli.quick("tunnel", "client", "--listen", "127.0.0.1:0", "--server", tlsAddress));
        String line = plainClient.awaitLine("the server at " + tlsAddress, 30);
        assertTrue(line.contains("speaks TLS: start this end with --tls"), line);
        line = tlsServer.awaitLine("refused", 30);
        assertTrue(line.contains("connection from 127.0.0.1:") && line.contains("sent plain smux to this TLS port: start it with --tls"),
                line);

        // a TLS client meets a plain server
        Cli plainServer = keep(Cli.start("tunnel", "server", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:9"));
        int plainPort = Cli.port(plainServer.awaitLine("listening on", 30));
        Cli tlsClient = keep(Cli.quick("tunnel", "client", "--listen", "127.0.0.1:0", "--server", "127.0.0.1:" + plainPort,
                "--tls", "--tls-trust", keys.certPem.toString()));
        line = tlsClient.awaitLine("the server at 127.0.0.1:" + plainPort, 30);
        assertTrue(line.contains("speaks plain smux, not TLS: start it with --tls, or this end without --tls"), line);
        line = plainServer.awaitLine("the peer speaks TLS", 30);
        assertTrue(line.contains("session from 127.0.0.1:") && line.contains("start this end with --tls"), line);
        assertFalse(plainClient.output().contains("unverified") || tlsClient.output().contains("unverified"),
                "neither end takes the other for a Go server");
    }

    @Test
    @Timeout(120)
    void aSecondSignalEndsTheDrainAtOnceAndSaysSo() throws Exception {
        // a transfer of 20 s, a drain of 60 s: only the second signal can end the stop early
        ServerSocket target = keep(Targets.slowSender(pool, 200, 16 * 1024, 100));
        Cli server = keep(Cli.start("tunnel", "server", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:" + target.getLocalPort(),
                "--drain", "60"));
        String farAddress = "127.0.0.1:" + Cli.port(server.awaitLine("listening on", 30));
        Cli client = keep(Cli.start("tunnel", "client", "--listen", "127.0.0.1:0", "--server", farAddress));
        int near = Cli.port(client.awaitLine("listening on", 30));
        client.awaitLine("connected to", 30);
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), near)) {
            s.setSoTimeout(60_000);
            AtomicLong received = new AtomicLong();
            pool.submit(() -> Targets.receive(s, received));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (received.get() == 0 && System.nanoTime() < deadline) {
                LockSupport.parkNanos(5_000_000);
            }
            assertTrue(received.get() > 0, "the transfer started");

            server.terminate();
            server.awaitLine("stopping: no new sessions or streams; 1 session(s) have up to 60 s", 30);
            long second = System.nanoTime();
            server.terminate();
            server.awaitLine("second signal: ending the drain now", 10);
            server.awaitLine("stopped: 1 session(s) had streams cut by the second signal", 10);
            server.exitCode(10);
            long took = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - second);
            assertTrue(took < 10, "the second signal ended the 60 s drain at once; it took " + took + " s");
        }
    }

    @Test
    @Timeout(150)
    void sigtermOnEitherEndLetsTheTransferInFlightFinish() throws Exception {
        int chunks = 24;
        int chunk = 64 * 1024;
        String expected = Targets.sha(Targets.data(chunks * chunk, 42));
        ServerSocket target = keep(Targets.slowSender(pool, chunks, chunk, 50)); // 1.5 MiB over about 1.2 s
        Cli server = keep(Cli.start("tunnel", "server", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:" + target.getLocalPort()));
        String farAddress = "127.0.0.1:" + Cli.port(server.awaitLine("listening on", 30));

        for (String end : List.of("client", "server")) {
            Cli client = keep(Cli.start("tunnel", "client", "--listen", "127.0.0.1:0", "--server", farAddress));
            int near = Cli.port(client.awaitLine("listening on", 30));
            client.awaitLine("connected to", 30);
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), near)) {
                s.setSoTimeout(60_000);
                AtomicLong received = new AtomicLong();
                Future<String> sha = pool.submit(() -> Targets.receive(s, received));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (received.get() < 4L * chunk && System.nanoTime() < deadline) {
                    LockSupport.parkNanos(5_000_000);
                }
                assertTrue(received.get() >= 4L * chunk, "the transfer started");
                Cli stopping = end.equals("client") ? client : server;
                stopping.terminate();
                assertEquals(expected, sha.get(60, TimeUnit.SECONDS), "SIGTERM on the " + end + ": every byte arrived");
                assertEquals((long) chunks * chunk, received.get());
                s.close(); // the application is done with the connection: that finishes the stream
                stopping.awaitLine("stopped: every stream finished", 30);
                stopping.exitCode(30);
            }
        }
    }

    @Test
    @Timeout(120)
    void oneServerPortCarriesClientsOfBothVersions() throws Exception {
        ServerSocket target = keep(Targets.echo(pool));
        Cli server = keep(Cli.start("tunnel", "server", "--protocol", "auto", "--listen", "127.0.0.1:0",
                "--target", "127.0.0.1:" + target.getLocalPort()));
        String farAddress = "127.0.0.1:" + Cli.port(server.awaitLine("listening on", 30));
        Cli v1 = keep(Cli.start("tunnel", "client", "--protocol", "1", "--listen", "127.0.0.1:0", "--server", farAddress));
        int nearV1 = Cli.port(v1.awaitLine("smux tunnel client: listening on", 30));
        Cli v2 = keep(Cli.start("tunnel", "client", "--protocol", "2", "--listen", "127.0.0.1:0", "--server", farAddress));
        int nearV2 = Cli.port(v2.awaitLine("smux tunnel client: listening on", 30));
        v1.awaitLine("smux tunnel client: connected to " + farAddress, 30);
        v2.awaitLine("smux tunnel client: connected to " + farAddress, 30);
        for (int round = 1; round <= 3; round++) {
            assertTrue(Targets.roundTrip(nearV1, 200_000, round), "version 1 client, round " + round);
            assertTrue(Targets.roundTrip(nearV2, 200_000, round), "version 2 client, round " + round);
        }
        assertFalse(server.output().contains("another protocol version"), server.output());
    }

    @Test
    @Timeout(90)
    void aVersionMismatchIsReportedOnBothEndsWithThePeersAddress() throws Exception {
        Cli server = keep(Cli.start("tunnel", "server", "--protocol", "2", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:9"));
        String farAddress = "127.0.0.1:" + Cli.port(server.awaitLine("listening on", 30));
        Cli client = keep(Cli.start("tunnel", "client", "--protocol", "1", "--listen", "127.0.0.1:0", "--server", farAddress));
        String clientSide = client.awaitLine("smux tunnel client: the server at " + farAddress, 30);
        assertTrue(clientSide.contains("speaks smux protocol version 2, this client 1") && clientSide.contains("--protocol"), clientSide);
        String serverSide = server.awaitLine("another protocol version", 30);
        assertTrue(serverSide.contains(" smux tunnel server: session from 127.0.0.1:") && serverSide.contains("--protocol"), serverSide);
    }

    @Test
    @Timeout(150)
    void theTunnelRunsOverMutualTlsAndRefusesAServerItDoesNotTrust(@TempDir Path dir) throws Exception {
        // one key pair serves both ends (each trusts the other's certificate); it saves a keytool run
        Keys serverKey = Keys.make(dir, "tunnel");
        Keys clientKey = serverKey;
        ServerSocket target = keep(Targets.echo(pool));
        Map<String, String> password = Map.of("SMUX_TLS_PASSWORD", Keys.PASSWORD);
        // the server's key as PKCS12, the client's as PEM: both forms of --tls-key
        Cli server = keep(Cli.start(List.of(), password, "tunnel", "server", "--listen", "127.0.0.1:0",
                "--target", "127.0.0.1:" + target.getLocalPort(), "--tls", "--tls-key", serverKey.p12.toString(),
                "--tls-trust", clientKey.certPem.toString()));
        String farAddress = "127.0.0.1:" + Cli.port(server.awaitLine("listening on", 30));
        Cli client = keep(Cli.start("tunnel", "client", "--listen", "127.0.0.1:0", "--server", farAddress,
                "--tls", "--tls-key", clientKey.keyPem.toString(), "--tls-trust", serverKey.certPem.toString()));
        int near = Cli.port(client.awaitLine("listening on", 30));
        client.awaitLine("connected to " + farAddress + " over TLS", 30);
        for (int i = 0; i < 3; i++) {
            assertTrue(Targets.roundTrip(near, 500_000, i), "echo " + i + " over the TLS tunnel");
        }

        // a client that trusts only the JDK's CAs refuses the self-signed server, and says so
        Cli doubting = keep(Cli.quick("tunnel", "client", "--listen", "127.0.0.1:0", "--server", farAddress, "--tls"));
        String line = doubting.awaitLine("waiting for the server at " + farAddress, 30);
        assertTrue(line.contains("TLS handshake failed"), line);
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
