package smux.it.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import smux.api.Session;
import smux.api.SessionStats;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.it.interop.GoPeer.Release;
import smux.it.interop.GoPeer.StreamReport;

/**
 * Issue 20: one honest session of 1,000 streams is served by the real {@code smux serve} and the
 * real tunnel server with their default options, on Java 17 and 25, from a Go xtaci/smux client and
 * from a Java client with its default options, every stream echoed byte-exact, nothing refused or
 * shed. Before, {@code serve} refused every stream past 128 (Java 17) and the memory admission
 * every one past 256 (docs/PROTOCOL.md, "Receive memory").
 */
class ThousandStreamsTest {
    private static final int STREAMS = 1000;
    private static final Pattern LISTENING = Pattern.compile("listening on ([^\\s:]+):(\\d+)");

    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "thousand-streams-test");
        t.setDaemon(true);
        return t;
    });

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : cleanup) {
            c.close();
        }
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
    }

    /** The Go client opens 1,000 streams at once and echoes 300 KiB on each through {@code serve}: past xtaci's 256 KiB first window. */
    @ParameterizedTest(name = "Go client -> serve on Java {0}, {1}")
    @CsvSource({"17, socket", "17, nio", "25, socket"})
    @Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aGoClientsThousandStreamsThroughServe(int jdk, String transport) throws Exception {
        ChildProcess serve = keep(cli(jdk, "serve", "serve", "--listen", "127.0.0.1:0", "--transport", transport));
        goClientEchoes(serve, address(serve));
    }

    /**
     * 10,000 streams with the documented setting, {@code --max-streams 10000}, on Java 25, where each
     * stream is served on a virtual thread (on Java 17 each would take a platform thread: see
     * docs/PROTOCOL.md). 32 KiB echoed on each, byte-exact.
     */
    @Test
    @Timeout(value = 400, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void tenThousandStreamsWithTheDocumentedSetting() throws Exception {
        ChildProcess serve = keep(cli(25, "serve", "serve", "--listen", "127.0.0.1:0", "--max-streams", "10000"));
        goClientEchoes(serve, address(serve), 10_000, 32 * 1024);
    }

    @Test
    @Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aGoClientsThousandStreamsThroughTheTunnelServer() throws Exception {
        ServerSocket target = keep(echoTarget());
        ChildProcess server = keep(cli(17, "tunnel server", "tunnel", "server", "--listen", "127.0.0.1:0",
                "--target", "127.0.0.1:" + target.getLocalPort()));
        goClientEchoes(server, address(server));
    }

    @Test
    @Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aJavaClientsThousandStreamsThroughServe() throws Exception {
        ChildProcess serve = keep(cli(17, "serve", "serve", "--listen", "127.0.0.1:0"));
        javaClientEchoes(serve, address(serve));
    }

    @Test
    @Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aJavaClientsThousandStreamsThroughTheTunnelServer() throws Exception {
        ServerSocket target = keep(echoTarget());
        ChildProcess server = keep(cli(17, "tunnel server", "tunnel", "server", "--listen", "127.0.0.1:0",
                "--target", "127.0.0.1:" + target.getLocalPort()));
        javaClientEchoes(server, address(server));
    }

    private void goClientEchoes(ChildProcess server, InetSocketAddress at) throws Exception {
        goClientEchoes(server, at, STREAMS, 300 * 1024);
    }

    private void goClientEchoes(ChildProcess server, InetSocketAddress at, int count, int bytes) throws Exception {
        long start = System.nanoTime();
        try (GoPeer client = GoPeer.client(Release.V1_5_16, at, "-version", "2", "-mode", "echo", "-streams",
                Integer.toString(count), "-bytes", Integer.toString(bytes), "-timeout", "300s")) {
            client.awaitSuccess(Duration.ofSeconds(300));
            List<StreamReport> streams = client.streams(1);
            System.out.printf("[thousand-streams] Go client, %d streams x %d KiB echoed in %d ms%n", count, bytes >> 10,
                    (System.nanoTime() - start) / 1_000_000);
            assertEquals(count, streams.size(), server.diagnostics());
            for (StreamReport r : streams) {
                assertEquals("", r.err(), "stream " + r.id() + "\n" + server.diagnostics());
                assertEquals(bytes, r.bytesOut(), "stream " + r.id());
                assertEquals(bytes, r.bytesIn(), "stream " + r.id() + " echoed whole");
                assertEquals(r.sha256Out(), r.sha256In(), "stream " + r.id() + " echoed byte-exact");
            }
        }
        noRefusals(server);
    }

    /**
     * A Java client with default options opens 1,000 streams on one session (its default took 256
     * before) and echoes 300 KiB on each: one thread writes them all, in turn, while a reader
     * thread per stream reads its echo.
     */
    private void javaClientEchoes(ChildProcess server, InetSocketAddress at) throws Exception {
        int bytes = 300 * 1024;
        SmuxConfig config = SmuxConfig.builder().transport("socket").build();
        long start = System.nanoTime();
        try (Session s = Smux.connect(at, config)) {
            List<SmuxStream> streams = new ArrayList<>();
            List<byte[]> sent = new ArrayList<>();
            List<java.util.concurrent.Future<byte[]>> back = new ArrayList<>();
            Random random = new Random(20);
            for (int i = 0; i < STREAMS; i++) {
                SmuxStream stream = s.openStream();
                stream.setReadTimeout(Duration.ofSeconds(120));
                stream.setWriteTimeout(Duration.ofSeconds(120));
                streams.add(stream);
                byte[] data = new byte[bytes];
                random.nextBytes(data);
                sent.add(data);
                back.add(pool.submit(() -> stream.inputStream().readAllBytes()));
            }
            for (int i = 0; i < STREAMS; i++) {
                streams.get(i).outputStream().write(sent.get(i));
                streams.get(i).closeWrite();
            }
            for (int i = 0; i < STREAMS; i++) {
                try (SmuxStream stream = streams.get(i)) {
                    byte[] got = back.get(i).get(180, TimeUnit.SECONDS);
                    assertEquals(bytes, got.length, "stream " + stream.id() + "\n" + server.diagnostics());
                    assertTrue(Arrays.equals(sha(sent.get(i)), sha(got)), "stream " + stream.id() + " echoed byte-exact");
                }
            }
            System.out.printf("[thousand-streams] Java client, %d streams x %d KiB echoed in %d ms%n", STREAMS, bytes >> 10,
                    (System.nanoTime() - start) / 1_000_000);
            SessionStats st = s.stats();
            assertEquals(STREAMS, st.streamsOpened());
            assertEquals(0, st.streamsShed());
        }
        noRefusals(server);
    }

    /** The server's log says nothing was refused or shed. */
    private static void noRefusals(ChildProcess server) {
        assertFalse(server.diagnostics().contains("refusing streams"), server.diagnostics());
        assertTrue(server.isAlive(), server.diagnostics());
    }

    // ------------------------------------------------------------------ processes

    private ChildProcess cli(int jdk, String label, String... args) throws IOException {
        Path cliTarget = Path.of(System.getProperty("smux.it.cliTarget", "../smux-cli/target")).toAbsolutePath().normalize();
        List<String> cmd = new ArrayList<>(List.of(Jdk.find(jdk).java().toString(), "-cp", ThroughputCell.cliClassPath(cliTarget),
                "smux.cli.Main"));
        cmd.addAll(List.of(args));
        return new ChildProcess("Java " + jdk + " " + label, cmd);
    }

    private static InetSocketAddress address(ChildProcess server) {
        String line = server.awaitStderr(l -> LISTENING.matcher(l).find(), Duration.ofSeconds(60), "listening line");
        Matcher m = LISTENING.matcher(line);
        assertTrue(m.find());
        return new InetSocketAddress(m.group(1), Integer.parseInt(m.group(2)));
    }

    /** A TCP echo server, a thread per connection (from this test's own pool). */
    private ServerSocket echoTarget() throws IOException {
        ServerSocket listener = new ServerSocket(0, 2048, InetAddress.getLoopbackAddress());
        pool.execute(() -> {
            while (!listener.isClosed()) {
                try {
                    Socket c = listener.accept();
                    pool.execute(() -> {
                        try (c; InputStream in = c.getInputStream(); OutputStream out = c.getOutputStream()) {
                            in.transferTo(out);
                            c.shutdownOutput();
                        } catch (IOException e) {
                            // the connection ended; the client's check says whether that lost anything
                        }
                    });
                } catch (IOException e) {
                    return; // closed
                }
            }
        });
        return listener;
    }

    private <T extends AutoCloseable> T keep(T c) {
        cleanup.add(0, c);
        return c;
    }

    private static byte[] sha(byte[] b) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(b);
    }
}
