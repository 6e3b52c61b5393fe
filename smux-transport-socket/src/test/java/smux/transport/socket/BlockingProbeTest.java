package smux.transport.socket;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static smux.transport.socket.Frames.FIN;
import static smux.transport.socket.Frames.NOP;
import static smux.transport.socket.Frames.PSH;
import static smux.transport.socket.Frames.SYN;
import static smux.transport.socket.Frames.UPD;
import static smux.transport.socket.Frames.VRM;
import static smux.transport.socket.Frames.concat;
import static smux.transport.socket.Frames.frame;
import static smux.transport.socket.Frames.twoInts;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import smux.api.ProbeResult;
import smux.api.Session;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.engine.VerifyCode;
import smux.engine.runtime.BlockingProbe;

/**
 * The probe ({@code isSmux}) against scripted raw peers over real loopback sockets. The peer
 * reads the probe frame ({@code ver=2 cmd=0x7F len=8 sid=0, V1 u32 LE, V2 u32 LE}) and answers
 * as its script says; only {@code VRM{answer1(V1), answer2(V2)}} means yes, and the probe never
 * throws for what a peer does.
 */
@Timeout(20)
class BlockingProbeTest {
    /** Each blocking party on a thread of its own: the common pool may queue it behind another. */
    private static final Executor OWN_THREAD = task -> {
        Thread t = new Thread(task, "test-peer");
        t.setDaemon(true);
        t.start();
    };

    private static final SmuxConfig FAST = SmuxConfig.builder().probeTimeout(Duration.ofMillis(300)).build();
    private static final SmuxConfig PATIENT = SmuxConfig.builder().probeTimeout(Duration.ofSeconds(5)).build();

    /** What the peer does once it has read the probe frame (its 16 bytes). */
    private interface Script {
        void run(byte[] probe, OutputStream out, Socket peer) throws Exception;
    }

    private ServerSocket listener;
    private Socket client;
    private final List<Socket> peers = new CopyOnWriteArrayList<>();
    private CompletableFuture<byte[]> probeSeen;

    @BeforeEach
    void listen() throws IOException {
        listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void closeAll() throws IOException {
        if (client != null) {
            client.close();
        }
        for (Socket s : peers) {
            s.close();
        }
        listener.close();
    }

    // ------------------------------------------------------------------ yes

    @Test
    void rightAnswerIsSmux() throws Exception {
        connect(rightAnswer());

        assertEquals(ProbeResult.SMUX, BlockingProbe.probe(client, PATIENT));

        byte[] probe = probeSeen.get(5, TimeUnit.SECONDS);
        assertArrayEquals(new byte[] {2, (byte) VRM, 8, 0, 0, 0, 0, 0}, Arrays.copyOf(probe, 8),
                "ver=2 cmd=0x7F len=8 sid=0");
    }

    @Test
    void rightAnswerArrivingByteByByteIsSmux() throws Exception {
        connect((probe, out, peer) -> {
            for (byte b : answerTo(probe)) {
                out.write(b);
                out.flush();
            }
        });

        assertEquals(ProbeResult.SMUX, BlockingProbe.probe(client, PATIENT));
    }

    @Test
    void nopBeforeTheAnswerIsIgnored() throws Exception {
        connect((probe, out, peer) -> out.write(concat(frame(2, NOP, 0), frame(2, NOP, 0), answerTo(probe))));

        assertEquals(ProbeResult.SMUX, BlockingProbe.probe(client, PATIENT));
    }

    @Test
    void probeReadsNothingBeyondTheAnswer() throws Exception {
        byte[] after = concat(frame(2, SYN, 2), "and then some".getBytes(US_ASCII));
        connect((probe, out, peer) -> out.write(concat(answerTo(probe), after))); // one segment: all of it arrives at once

        assertEquals(ProbeResult.SMUX, BlockingProbe.probe(client, PATIENT));

        client.setSoTimeout(5000);
        assertArrayEquals(after, client.getInputStream().readNBytes(after.length),
                "what the peer sent after its answer is still in the socket, for the session to read");
    }

    @Test
    void version1ProbeCarriesVersion1AndTakesAVersion1Answer() throws Exception {
        connect((probe, out, peer) -> out.write(answerTo(probe))); // answerTo echoes the probe's version

        assertEquals(ProbeResult.SMUX, BlockingProbe.probe(client, PATIENT.toBuilder().version(1).build()));
        assertEquals(1, probeSeen.get(5, TimeUnit.SECONDS)[0]);
    }

    @Test
    void longProbeTimeoutIsAcceptedByTheSocket() throws Exception {
        // 30 days is a valid probeTimeout; in milliseconds it does not fit an int (SO_TIMEOUT)
        connect(rightAnswer());

        assertEquals(ProbeResult.SMUX, BlockingProbe.probe(client, SmuxConfig.builder().probeTimeout(Duration.ofDays(30)).build()));
    }

    @Test
    void probeLeavesTheSocketTimeoutAsItWas() throws Exception {
        connect(rightAnswer());
        client.setSoTimeout(1234);

        assertEquals(ProbeResult.SMUX, BlockingProbe.probe(client, PATIENT));

        assertEquals(1234, client.getSoTimeout());
    }

    @Test
    void providerAndEntryPointProbeThroughTheSameCode() throws Exception {
        connect(rightAnswer());
        assertEquals(ProbeResult.SMUX, new SocketTransportProvider().probe(client, PATIENT));

        Socket second = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
        try (second) {
            Socket secondPeer = listener.accept();
            peers.add(secondPeer);
            CompletableFuture.runAsync(() -> answerOnce(secondPeer), OWN_THREAD);
            assertTrue(Smux.isSmux(second, PATIENT), "Smux finds the socket transport with ServiceLoader");
        }
    }

    @Test
    void realSessionAnswersAndTheSameSocketThenCarriesASession() throws Exception {
        client = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
        Socket accepted = listener.accept();
        peers.add(accepted);
        SocketTransportProvider provider = new SocketTransportProvider();
        try (Session server = provider.open(accepted, false, SmuxConfig.defaults())) {
            assertEquals(ProbeResult.SMUX, BlockingProbe.probe(client, PATIENT));

            try (Session session = provider.open(client, true, SmuxConfig.defaults());
                 SmuxStream stream = session.openStream()) {
                stream.outputStream().write("after the probe".getBytes(US_ASCII));
                stream.closeWrite();
                SmuxStream there = server.acceptStream(Duration.ofSeconds(5));
                assertArrayEquals("after the probe".getBytes(US_ASCII), there.inputStream().readAllBytes());
                assertTrue(server.isPeerVerified(), "a peer that sent a probe is this library");
            }
        }
    }

    // ------------------------------------------------------------------ no, and never an exception

    @ParameterizedTest(name = "wrong {0}")
    @ValueSource(strings = {"first", "second", "both-swapped", "unchanged-echo"})
    void wrongValuesAreNotSmux(String which) throws Exception {
        connect((probe, out, peer) -> {
            int v1 = Frames.u32le(probe, 8);
            int v2 = Frames.u32le(probe, 12);
            int a1 = VerifyCode.answer1(v1);
            int a2 = VerifyCode.answer2(v2);
            byte[] payload = switch (which) {
                case "first" -> twoInts(a1 ^ 1, a2);
                case "second" -> twoInts(a1, a2 ^ 0x8000_0000);
                case "both-swapped" -> twoInts(a2, a1);
                default -> twoInts(v1, v2);
            };
            if (Arrays.equals(payload, twoInts(a1, a2))) {
                payload = twoInts(a1 + 1, a2); // the random values happened to be their own answer
            }
            out.write(frame(2, VRM, 0, payload));
        });

        assertEquals(ProbeResult.NOT_SMUX, BlockingProbe.probe(client, PATIENT));
    }

    @ParameterizedTest(name = "answered with {0}")
    @ValueSource(strings = {"SYN", "FIN", "PSH", "UPD", "VRM-on-a-stream"})
    void anotherFrameIsNotSmux(String kind) throws Exception {
        connect((probe, out, peer) -> out.write(switch (kind) {
            case "SYN" -> frame(2, SYN, 2);
            case "FIN" -> frame(2, FIN, 3);
            case "PSH" -> frame(2, PSH, 2, "hello".getBytes(US_ASCII));
            case "UPD" -> frame(2, UPD, 3, twoInts(0, 262_144));
            default -> { // the right values, but on stream 5: VRM belongs to the session
                byte[] a = answerTo(probe);
                a[4] = 5;
                yield a;
            }
        }));

        long start = System.nanoTime();
        assertEquals(ProbeResult.NOT_SMUX, BlockingProbe.probe(client, PATIENT));
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(3), "the first frame decides, no wait for the timeout");
    }

    @Test
    void answerOfTheWrongVersionIsNotSmux() throws Exception {
        connect((probe, out, peer) -> {
            byte[] a = answerTo(probe);
            a[0] = 2; // the probe was version 1
            out.write(a);
        });

        assertEquals(ProbeResult.NOT_SMUX, BlockingProbe.probe(client, PATIENT.toBuilder().version(1).build()));
    }

    @Test
    void httpServerIsNotSmux() throws Exception {
        connect((probe, out, peer) -> out.write(("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .getBytes(US_ASCII)));

        assertEquals(ProbeResult.NOT_SMUX, BlockingProbe.probe(client, PATIENT));
    }

    @Test
    void peerThatClosesIsNotSmux() throws Exception {
        connect((probe, out, peer) -> peer.close());

        long start = System.nanoTime();
        assertEquals(ProbeResult.CLOSED, BlockingProbe.probe(client, PATIENT));
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(3), "end-of-stream decides, no wait for the timeout");
    }

    @Test
    void peerThatClosesBeforeReadingIsNotSmux() throws Exception {
        client = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
        listener.accept().close();

        assertEquals(ProbeResult.CLOSED, BlockingProbe.probe(client, PATIENT));
    }

    @Test
    void peerThatResetsIsNotSmux() throws Exception {
        connect((probe, out, peer) -> {
            peer.setSoLinger(true, 0); // close sends RST
            peer.close();
        });

        assertEquals(ProbeResult.CLOSED, BlockingProbe.probe(client, PATIENT));
    }

    @Test
    void peerThatClosesInTheMiddleOfTheAnswerIsNotSmux() throws Exception {
        connect((probe, out, peer) -> {
            out.write(Arrays.copyOf(answerTo(probe), 11));
            out.flush();
            peer.close();
        });

        assertEquals(ProbeResult.NOT_SMUX, BlockingProbe.probe(client, PATIENT));
    }

    @Test
    void silentPeerIsNotSmuxAfterTheTimeout() throws Exception {
        connect((probe, out, peer) -> { }); // reads the probe, says nothing, keeps the connection open (as xtaci/smux does)

        long start = System.nanoTime();
        assertEquals(ProbeResult.NO_ANSWER, BlockingProbe.probe(client, FAST));
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertTrue(took >= 250, "waited for probeTimeout (300 ms), took " + took + " ms");
        assertTrue(took < 300 + 2000, "gave up soon after probeTimeout, took " + took + " ms");
    }

    @Test
    void peerThatStopsHalfwayIsNotSmuxAfterTheTimeout() throws Exception {
        connect((probe, out, peer) -> out.write(Arrays.copyOf(answerTo(probe), 8))); // a header, no payload

        assertEquals(ProbeResult.NOT_SMUX, BlockingProbe.probe(client, FAST));
    }

    @Test
    void closedSocketIsNotSmux() throws Exception {
        connect(rightAnswer());
        client.close();

        assertEquals(ProbeResult.CLOSED, BlockingProbe.probe(client, PATIENT));
    }

    @Test
    void garbageShorterThanAHeaderIsNotSmuxByTheTimeoutAndTheSocketTimeoutIsRestored() throws Exception {
        // five bytes cannot be judged as a header: the probe waits for more, until its timeout
        connect((probe, out, peer) -> out.write("nope\n".getBytes(US_ASCII)));
        client.setSoTimeout(4321);

        assertEquals(ProbeResult.NOT_SMUX, BlockingProbe.probe(client, FAST));

        assertEquals(4321, client.getSoTimeout());
    }

    @Test
    void tlsServerThatAlertsIsTls() throws Exception {
        // what a JSSE server sends to a client that is not TLS: a fatal alert record (7 bytes), then it closes
        connect((probe, out, peer) -> {
            out.write(new byte[] {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0A});
            out.flush();
            peer.close();
        });

        assertEquals(ProbeResult.TLS, BlockingProbe.probe(client, PATIENT));
    }

    @Test
    void tlsRecordLongerThanAHeaderIsTls() throws Exception {
        connect((probe, out, peer) -> out.write(new byte[] {0x16, 0x03, 0x03, 0x00, 0x40, 0x02, 0x00, 0x00, 0x3C, 0x03, 0x03}));

        assertEquals(ProbeResult.TLS, BlockingProbe.probe(client, PATIENT));
    }

    // ------------------------------------------------------------------ the scripted peer

    /** Connects {@link #client} to a peer that reads the probe frame, then runs {@code script}. */
    private void connect(Script script) throws IOException {
        client = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
        Socket peer = listener.accept();
        peers.add(peer);
        probeSeen = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                peer.setSoTimeout(10_000);
                InputStream in = peer.getInputStream();
                byte[] probe = in.readNBytes(16);
                probeSeen.complete(probe);
                if (probe.length == 16) {
                    OutputStream out = peer.getOutputStream();
                    script.run(probe, out, peer);
                    out.flush();
                }
            } catch (Exception e) {
                probeSeen.completeExceptionally(e);
            }
        }, "scripted-peer");
        t.setDaemon(true);
        t.start();
    }

    private static Script rightAnswer() {
        return (probe, out, peer) -> out.write(answerTo(probe));
    }

    private static void answerOnce(Socket peer) {
        try {
            peer.setSoTimeout(10_000);
            byte[] probe = peer.getInputStream().readNBytes(16);
            peer.getOutputStream().write(answerTo(probe));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return {@code VRM{answer1(V1), answer2(V2)}} in the probe's own version */
    private static byte[] answerTo(byte[] probe) {
        int v1 = Frames.u32le(probe, 8);
        int v2 = Frames.u32le(probe, 12);
        return frame(probe[0], VRM, 0, twoInts(VerifyCode.answer1(v1), VerifyCode.answer2(v2)));
    }
}
