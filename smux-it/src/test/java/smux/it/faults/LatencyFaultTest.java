package smux.it.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import eu.rekawek.toxiproxy.model.ToxicDirection;
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
 * {@value #STREAMS} streams over a link with {@value #LATENCY_MILLIS} ms (±{@value #JITTER_MILLIS} ms) of latency each
 * way (Toxiproxy {@code latency} toxics): every stream arrives intact (pattern and SHA-256), and each moves at
 * about window / round-trip, the version 2 flow-control model of docs/RELIABILITY.md. The window is
 * {@value #WINDOW} bytes so that 100 streams at that rate stay well within what this machine and the proxy can
 * carry, and the window, not the link, is what limits each stream. The round trip is measured with pings on the
 * same connection. Each stream's rate is taken after its first {@link SmuxConfig#INITIAL_PEER_WINDOW} bytes,
 * which xtaci's rules let the sender send before the receiver's window is known.
 */
@ExtendWith(ToxiproxyExtension.class)
class LatencyFaultTest {
    static final int STREAMS = 100;
    static final long LATENCY_MILLIS = 50;
    static final long JITTER_MILLIS = 10;
    static final int WINDOW = 32 * 1024;
    static final long PER_STREAM = SmuxConfig.INITIAL_PEER_WINDOW + 8L * WINDOW;

    @ParameterizedTest(name = "{0} v2")
    @MethodSource("smux.it.faults.Faults#transports")
    @Timeout(120)
    void hundredStreamsEachMoveAtAboutWindowPerRoundTrip(String transport, ToxiproxyBackend toxiproxy) throws Exception {
        ExecutorService pool = Faults.pool("fault-latency", 0);
        SmuxConfig config = SmuxConfig.builder().transport(transport).version(2).streamWindow(WINDOW).probePeer(true).build();
        try (ProxiedPair pair = ProxiedPair.open(toxiproxy, "latency-" + transport, config)) {
            pair.proxy.toxics().latency("delay-up", ToxicDirection.UPSTREAM, LATENCY_MILLIS).setJitter(JITTER_MILLIS);
            pair.proxy.toxics().latency("delay-down", ToxicDirection.DOWNSTREAM, LATENCY_MILLIS).setJitter(JITTER_MILLIS);
            double rttSum = 0;
            int pings = 6;
            for (int i = 0; i < pings; i++) {
                rttSum += pair.client.ping().toNanos() / 1e9;
            }
            double rtt = rttSum / pings;
            double model = WINDOW / rtt;

            Pattern pattern = new Pattern(17);
            List<Pattern.Sender> senders = new ArrayList<>();
            List<Pattern.Receiver> receivers = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < STREAMS; i++) {
                boolean up = i % 2 == 0;
                SmuxStream stream = (up ? pair.client : pair.server).openStream();
                Pattern.Sender sender = pattern.new Sender(stream, PER_STREAM, true, i, 48 * 1024);
                senders.add(sender);
                pool.execute(sender);
            }
            for (int i = 0; i < STREAMS; i++) {
                boolean up = i % 2 == 0;
                SmuxStream accepted = (up ? pair.server : pair.client).acceptStream(Duration.ofSeconds(10));
                receivers.add(pattern.new Receiver(accepted).mark(SmuxConfig.INITIAL_PEER_WINDOW).start());
            }
            // accepted in the order each side opened them: pair senders and receivers by stream id
            receivers.sort(java.util.Comparator.comparingInt(r -> index(r, senders)));

            double slowest = Double.MAX_VALUE;
            double fastest = 0;
            double sum = 0;
            long last = 0;
            for (int i = 0; i < STREAMS; i++) {
                Pattern.Receiver r = receivers.get(i);
                assertTrue(r.awaitEnd(60_000), () -> "still reading after 60 s: " + r);
                assertTrue(r.endOfStream() && r.total() == PER_STREAM && r.firstWrongOffset() < 0, r::toString);
                assertEquals(senders.get(i).sha256(), r.sha256(), "SHA-256 of " + r);
                double rate = (PER_STREAM - SmuxConfig.INITIAL_PEER_WINDOW) * 1e9 / (r.lastByteNanos() - r.markNanos());
                slowest = Math.min(slowest, rate);
                fastest = Math.max(fastest, rate);
                sum += rate;
                last = Math.max(last, r.lastByteNanos());
            }
            double wall = (last - start) / 1e9;
            String figures = String.format("%s: rtt %.1f ms, model window/rtt %.0f KB/s per stream; measured per stream"
                            + " %.0f..%.0f KB/s (mean %.0f), sum %.1f MB/s vs model %.1f MB/s; %d x %d bytes in %.2f s",
                    transport, rtt * 1e3, model / 1e3, slowest / 1e3, fastest / 1e3, sum / STREAMS / 1e3, sum / 1e6,
                    STREAMS * model / 1e6, STREAMS, PER_STREAM, wall);
            System.out.println("[latency] " + figures);
            assertTrue(rtt >= 2 * LATENCY_MILLIS / 1e3 * 0.8, "the latency toxics did not act: " + figures);
            assertTrue(slowest >= 0.3 * model, "a stream fell below 30% of window/rtt: " + figures);
            assertTrue(fastest <= 2.0 * model, "a stream outran its window: " + figures);
            assertTrue(sum >= 0.3 * STREAMS * model && sum <= 2.0 * STREAMS * model, figures);
        } finally {
            pool.shutdownNow();
        }
    }

    private static int index(Pattern.Receiver r, List<Pattern.Sender> senders) {
        for (int i = 0; i < senders.size(); i++) {
            if (senders.get(i).streamId() == r.streamId()) {
                return i;
            }
        }
        throw new AssertionError("no sender for " + r);
    }
}
