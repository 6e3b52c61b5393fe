package smux.it.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import eu.rekawek.toxiproxy.model.ToxicDirection;
import eu.rekawek.toxiproxy.model.toxic.Slicer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.it.toxi.ToxiproxyBackend;
import smux.it.toxi.ToxiproxyExtension;

/**
 * The connection delivers tiny pieces at random moments: a Toxiproxy {@code slicer} toxic cuts everything, both
 * ways, into segments of {@value #AVERAGE}±{@value #VARIATION} bytes with a pause after each, and a {@code latency}
 * toxic with jitter delays them further. Frame headers and payloads are split at every possible place; the
 * decoder must reassemble every frame. {@value #STREAMS} streams each way carry small, irregular writes (the
 * client's frames are at most {@value #CLIENT_FRAME} bytes, so there are many); every stream is checked byte by
 * byte and by SHA-256.
 */
@ExtendWith(ToxiproxyExtension.class)
class SlicerFaultTest {
    static final int AVERAGE = 16;
    static final int VARIATION = 12;
    static final int STREAMS = 8;
    static final long PER_STREAM = 24 * 1024;
    static final int CLIENT_FRAME = 700;

    @ParameterizedTest(name = "{0} v{1}")
    @MethodSource("smux.it.faults.Faults#transportsAndVersions")
    @Timeout(60)
    void everyFrameIsReassembledFromTinySegments(String transport, int version, ToxiproxyBackend toxiproxy) throws Exception {
        ExecutorService pool = Faults.pool("fault-slicer", 0);
        SmuxConfig server = SmuxConfig.builder().transport(transport).version(version).build();
        SmuxConfig client = server.toBuilder().maxFrameSize(CLIENT_FRAME).build();
        ProxiedPair pair = ProxiedPair.create(toxiproxy, "slicer-" + transport + "-v" + version);
        try {
            for (ToxicDirection direction : ToxicDirection.values()) {
                Slicer slicer = pair.proxy.toxics().slicer("slice-" + direction, direction, AVERAGE, 20);
                slicer.setSizeVariation(VARIATION);
                pair.proxy.toxics().latency("jitter-" + direction, direction, 3).setJitter(3);
            }
            pair.connect(client, server);
            Pattern pattern = new Pattern(19);
            List<Pattern.Sender> senders = new ArrayList<>();
            for (int i = 0; i < 2 * STREAMS; i++) {
                SmuxStream stream = (i % 2 == 0 ? pair.client : pair.server).openStream();
                Pattern.Sender sender = pattern.new Sender(stream, PER_STREAM, true, 100 + i, 2500);
                senders.add(sender);
                pool.execute(sender);
            }
            List<Pattern.Receiver> receivers = new ArrayList<>();
            for (int i = 0; i < 2 * STREAMS; i++) {
                SmuxStream accepted = (i % 2 == 0 ? pair.server : pair.client).acceptStream(Duration.ofSeconds(20));
                receivers.add(pattern.new Receiver(accepted).start());
            }
            long frames = 0;
            for (Pattern.Receiver r : receivers) {
                assertTrue(r.awaitEnd(40_000), () -> "still reading: " + r);
                assertTrue(r.endOfStream() && r.total() == PER_STREAM && r.firstWrongOffset() < 0, r::toString);
                Pattern.Sender s = senders.stream().filter(x -> x.streamId() == r.streamId()).findFirst().orElseThrow();
                assertEquals(s.sha256(), r.sha256(), () -> "SHA-256 of " + r);
            }
            frames = pair.server.stats().framesReceived() + pair.client.stats().framesReceived();
            System.out.println("[slicer] " + transport + " v" + version + ": " + 2 * STREAMS + " streams x " + PER_STREAM
                    + " bytes intact, " + frames + " frames reassembled from ~" + AVERAGE + "-byte segments");
            assertTrue(pair.client.closeCause().isEmpty() && pair.server.closeCause().isEmpty());
        } finally {
            pool.shutdownNow();
            pair.close();
        }
    }
}
