package smux.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
    @Timeout(150)
    void aClientStartedBeforeItsServerConnectsWhenItComesUpAndAgainAfterARestart() throws Exception {
        ServerSocket target = keep(Targets.echo(pool));
        int far = freePort();
        String farAddress = "127.0.0.1:" + far;
        Cli client = keep(Cli.start("tunnel", "client", "--listen", "127.0.0.1:0", "--server", farAddress));
        int near = Cli.port(client.awaitLine("smux tunnel client: listening on", 30));
        client.awaitLine("smux tunnel client: waiting for the server at " + farAddress, 30);

        Cli server = keep(Cli.start("tunnel", "server", "--listen", farAddress, "--target", "127.0.0.1:" + target.getLocalPort()));
        client.awaitLine("smux tunnel client: connected to " + farAddress, 30);
        assertTrue(Targets.roundTrip(near, 300_000, 1), "the tunnel carries traffic once the server is up");

        server.terminate();
        server.exitCode(30);
        client.awaitLine("smux tunnel client: session to " + farAddress + " dropped", 30);
        Cli restarted = keep(Cli.start("tunnel", "server", "--listen", farAddress, "--target", "127.0.0.1:" + target.getLocalPort()));
        restarted.awaitLine("listening on", 30);
        // a local connection made while the link is down waits for it, and cuts the backoff short
        assertTrue(Targets.roundTrip(near, 300_000, 2), "the tunnel carries traffic after the server restarted");
        client.awaitLine("smux tunnel client: reconnected to " + farAddress, 5);
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
    @Timeout(90)
    void aVersionMismatchIsReportedOnBothEndsWithThePeersAddress() throws Exception {
        Cli server = keep(Cli.start("tunnel", "server", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:9"));
        String farAddress = "127.0.0.1:" + Cli.port(server.awaitLine("listening on", 30));
        Cli client = keep(Cli.start("tunnel", "client", "--protocol", "1", "--listen", "127.0.0.1:0", "--server", farAddress));
        String clientSide = client.awaitLine("smux tunnel client: the server at " + farAddress, 30);
        assertTrue(clientSide.contains("speaks smux protocol version 2, this client 1") && clientSide.contains("--protocol"), clientSide);
        String serverSide = server.awaitLine("another protocol version", 30);
        assertTrue(serverSide.startsWith("smux tunnel server: session from 127.0.0.1:") && serverSide.contains("--protocol"), serverSide);
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
