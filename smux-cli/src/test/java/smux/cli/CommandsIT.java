package smux.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The command end to end, as a user runs it: a separate process per command. */
class CommandsIT {
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

    <T extends AutoCloseable> T keep(T c) {
        cleanup.add(0, c);
        return c;
    }

    @Test
    @Timeout(120)
    void demoShowsBothGuaranteesAndExitsZero() throws Exception {
        Cli demo = keep(Cli.start("demo", "--mib", "64"));
        assertEquals(0, demo.exitCode(110), demo.output());
        String out = demo.output();
        assertTrue(out.contains("no stream blocks another (v2)") && out.contains("exact write timeout"), out);
        assertFalse(out.contains("FAILED"), out);
    }

    @Test
    @Timeout(60)
    void versionNamesTheBuildsVersionAndCommit() throws Exception {
        String head = gitHead();
        try (Cli version = Cli.quick("--version")) {
            assertEquals(0, version.exitCode(30), version.output());
            String line = version.output().strip();
            assertTrue(line.matches("smux \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?( \\(commit [^)]+\\))?, Java .+"), line);
            if (head != null) {
                // built from a git checkout (as a clone is): the commit it was built from
                assertTrue(line.contains("(commit ") && line.contains(head.substring(0, 7)), "commit " + head + ": " + line);
            } else {
                assertFalse(line.contains("(commit"), "no git here, so no commit: " + line);
            }
        }
    }

    /** @return the commit of the sources under test, or null outside a git checkout */
    private static String gitHead() throws Exception {
        java.nio.file.Path root = java.nio.file.Path.of(System.getProperty("smux.cli.readme")).getParent();
        try {
            Process p = new ProcessBuilder("git", "-C", root.toString(), "rev-parse", "HEAD").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : null;
        } catch (IOException e) {
            return null; // no git on this machine: the build wrote no commit either
        }
    }

    @Test
    @Timeout(60)
    void serveSurvivesAHostilePeerAndSaysHowEachSessionEnded() throws Exception {
        Cli server = keep(Cli.start("serve", "--listen", "127.0.0.1:0", "--mode", "echo"));
        int port = Cli.port(server.awaitLine("listening on", 30));
        try (Socket hostile = new Socket(InetAddress.getLoopbackAddress(), port)) {
            hostile.getOutputStream().write(new byte[] {9, 9, 9, 9, 9, 9, 9, 9});
            String ended = server.awaitLine("ended:", 15);
            assertTrue(ended.contains("WRONG_VERSION"), ended);
        }
        // still serving: a well-behaved client gets its echo
        Cli probe = keep(Cli.start("probe", "127.0.0.1:" + port));
        assertEquals(0, probe.exitCode(30), probe.output());
    }

    @Test
    @Timeout(180)
    void aTunnelCarriesAHundredConnectionsAndSurvivesAReset() throws Exception {
        try (ServerSocket target = new ServerSocket(0, 200, InetAddress.getLoopbackAddress())) {
            pool.execute(() -> echoForever(target));
            Cli far = keep(Cli.start("tunnel", "server", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:" + target.getLocalPort()));
            int farPort = Cli.port(far.awaitLine("smux tunnel server: listening on", 30));
            Cli near = keep(Cli.start("tunnel", "client", "--listen", "127.0.0.1:0", "--server", "127.0.0.1:" + farPort));
            int nearPort = Cli.port(near.awaitLine("smux tunnel client: listening on", 30));

            // one connection is reset mid-transfer; the others must not notice
            Socket victim = new Socket(InetAddress.getLoopbackAddress(), nearPort);
            victim.getOutputStream().write(new byte[1000]);
            victim.setSoLinger(true, 0);
            victim.close();

            List<Future<Boolean>> clients = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                int seed = i;
                clients.add(pool.submit(() -> roundTrip(nearPort, 50_000 + seed * 997, seed)));
            }
            for (Future<Boolean> f : clients) {
                assertTrue(f.get(150, TimeUnit.SECONDS), "a tunnelled connection's echo differed");
            }
            assertTrue(far.process.isAlive() && near.process.isAlive(), "the tunnel died");
        }
    }

    private static boolean roundTrip(int port, int size, long seed) throws Exception {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(120_000);
            Thread writer = new Thread(() -> {
                try {
                    OutputStream out = s.getOutputStream();
                    out.write(data);
                    s.shutdownOutput();
                } catch (IOException ignored) {
                    // the read side reports the failure
                }
            });
            writer.start();
            byte[] back = s.getInputStream().readAllBytes();
            writer.join();
            return sha(back).equals(sha(data));
        }
    }

    private static String sha(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private void echoForever(ServerSocket target) {
        while (!target.isClosed()) {
            try {
                Socket s = target.accept();
                pool.execute(() -> {
                    try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                        in.transferTo(out);
                    } catch (IOException ignored) {
                        // a reset connection, as the test intends
                    }
                });
            } catch (IOException e) {
                return;
            }
        }
    }
}
