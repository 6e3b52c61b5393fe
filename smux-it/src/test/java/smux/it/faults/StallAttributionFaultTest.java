package smux.it.faults;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import eu.rekawek.toxiproxy.model.ToxicDirection;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.api.StallCause;
import smux.api.StallStats;
import smux.it.OwnThreads;
import smux.it.toxi.Await;
import smux.it.toxi.ToxiproxyBackend;
import smux.it.toxi.ToxiproxyExtension;

/**
 * Stall attribution through a real Toxiproxy: each stream says how long and with how many bytes it
 * waited, and why. A reader that stops makes its sender's stream report time on the peer's window
 * while the stopped side reports bytes held unread by its application; a bandwidth toxic makes a
 * sender report time on the connection; a healthy stream beside them reports none of these.
 */
@ExtendWith(ToxiproxyExtension.class)
class StallAttributionFaultTest {
    private static final long STALL_MILLIS = 500;

    @ParameterizedTest(name = "{0}")
    @MethodSource("smux.it.faults.Faults#transports")
    @Timeout(60)
    void aStoppedReaderIsAWindowStallThereAndHeldBytesHereWhileAHealthyStreamReportsNothing(String transport,
            ToxiproxyBackend toxiproxy) throws Exception {
        SmuxConfig config = SmuxConfig.builder().transport(transport).version(2).build();
        try (ProxiedPair pair = ProxiedPair.open(toxiproxy, "stall-window-" + transport, config)) {
            // W: the client writes 1 MiB; the server's application accepts the stream and never reads it
            SmuxStream w = pair.client.openStream();
            CompletableFuture<Void> writer = OwnThreads.run(() -> write(w, new byte[1 << 20]));
            SmuxStream unread = pair.server.acceptStream(Duration.ofSeconds(10));
            Await.until(Duration.ofSeconds(10), () -> w.stallStats().ongoing() == StallCause.PEER_WINDOW
                            && w.stallStats().ongoingNanos() >= TimeUnit.MILLISECONDS.toNanos(STALL_MILLIS),
                    () -> "the writer's stream stalled on the window: " + w.stallStats());

            // H: a healthy stream beside it, echoed by a reader that keeps up
            SmuxStream h = pair.client.openStream();
            SmuxStream hPeer = pair.server.acceptStream(Duration.ofSeconds(10));
            CompletableFuture<Void> echo = OwnThreads.run(() -> echo(hPeer));
            h.setReadTimeout(Duration.ofSeconds(10));
            for (int i = 0; i < 20; i++) {
                byte[] message = ("healthy " + i).getBytes();
                h.write(ByteBuffer.wrap(message));
                byte[] back = new byte[message.length];
                h.inputStream().readNBytes(back, 0, back.length);
                assertArrayEquals(message, back);
            }

            StallStats sender = w.stallStats();
            StallStats holder = unread.stallStats();
            String figures = "sender " + sender + "; unread side " + holder + "; healthy " + h.stallStats() + " / "
                    + hPeer.stallStats();
            System.out.println("[stalls] " + transport + ": " + figures);
            assertTrue(sender.peerWindowNanos() >= TimeUnit.MILLISECONDS.toNanos(STALL_MILLIS), figures);
            assertTrue(sender.peerWindowBytes() > 0 && sender.peerWindowBytes() <= 1 << 20, figures);
            assertEquals(StallCause.PEER_WINDOW, sender.ongoing(), figures);
            assertEquals(0, sender.localReaderNanos(), figures);
            assertTrue(holder.localReaderNanos() >= TimeUnit.MILLISECONDS.toNanos(STALL_MILLIS), figures);
            assertTrue(holder.localReaderBytes() >= SmuxConfig.INITIAL_PEER_WINDOW, "all the window the peer used: " + figures);
            assertEquals(unread.available(), holder.localReaderBytes(), "what waits unread now: " + figures);
            assertEquals(0, holder.peerWindowNanos() + holder.connectionNanos(), "the holder sent nothing: " + figures);
            // The healthy stream waited for neither window nor reader. A write of a few bytes may still have
            // waited a moment for the connection's writer on a loaded machine (a descheduled thread: a full run
            // saw one of 95 ms beside the sender's seconds), so that cause is held to a small share.
            for (StallStats healthy : new StallStats[] {h.stallStats(), hPeer.stallStats()}) {
                assertEquals(0, healthy.peerWindowNanos() + healthy.localReaderNanos(), figures);
                assertTrue(healthy.connectionNanos() < sender.peerWindowNanos() / 4, figures);
            }

            // the sessions sum their streams
            assertTrue(pair.client.stats().stalls().peerWindowNanos() >= sender.peerWindowNanos(), figures);
            assertTrue(pair.server.stats().stalls().localReaderBytes() >= holder.localReaderBytes(), figures);

            // reading ends the hold, and so the window stall: both are then counted as finished
            InputStream in = unread.inputStream();
            byte[] buf = new byte[64 * 1024];
            long read = 0;
            while (read < 1 << 20) {
                read += in.read(buf);
            }
            writer.get(10, TimeUnit.SECONDS);
            Await.until(Duration.ofSeconds(5), () -> w.stallStats().ongoing() == null, () -> "stall over: " + w.stallStats());
            assertTrue(w.stallStats().peerWindowNanos() >= sender.peerWindowNanos(), "finished stalls keep counting");
            assertTrue(unread.stallStats().localReaderNanos() >= holder.localReaderNanos());
            h.close();
            echo.get(10, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("smux.it.faults.Faults#transports")
    @Timeout(60)
    void aSlowLinkIsAConnectionStall(String transport, ToxiproxyBackend toxiproxy) throws Exception {
        // A window far larger than what the link holds, so the writer waits for the socket, not the window.
        SmuxConfig config = SmuxConfig.builder().transport(transport).version(2).streamWindow(16 << 20).build();
        ProxiedPair pair = ProxiedPair.create(toxiproxy, "stall-link-" + transport);
        try (pair) {
            pair.proxy.toxics().bandwidth("slow-up", ToxicDirection.UPSTREAM, 1000);
            pair.connect(config, config, 32 * 1024);
            int total = 3 << 20;
            SmuxStream c = pair.client.openStream();
            CompletableFuture<Void> writer = OwnThreads.run(() -> write(c, new byte[total]));
            SmuxStream peer = pair.server.acceptStream(Duration.ofSeconds(10));
            InputStream in = peer.inputStream();
            byte[] buf = new byte[64 * 1024];
            long read = 0;
            while (read < total) {
                int n = in.read(buf);
                assertTrue(n > 0, "the stream ended early");
                read += n;
            }
            writer.get(10, TimeUnit.SECONDS);
            StallStats sender = c.stallStats();
            StallStats reader = peer.stallStats();
            String figures = "sender " + sender + "; reader " + reader;
            System.out.println("[stalls] " + transport + " over 1000 KB/s: " + figures);
            assertTrue(sender.connectionNanos() >= TimeUnit.SECONDS.toNanos(1), figures);
            assertTrue(sender.connectionNanos() > sender.peerWindowNanos(), "the link, not the window: " + figures);
            assertTrue(sender.connectionBytes() > 0, figures);
            // a reader that keeps up holds next to nothing (a descheduled reader thread on a loaded machine may hold a frame for a moment)
            assertTrue(reader.localReaderNanos() < sender.connectionNanos() / 10, "the reader kept up: " + figures);
            assertEquals(0, reader.peerWindowNanos() + reader.connectionNanos(), "the reader sent nothing: " + figures);
            assertTrue(pair.client.stats().stalls().connectionNanos() >= sender.connectionNanos(), figures);
        }
    }

    private static void write(SmuxStream s, byte[] data) {
        try {
            s.write(ByteBuffer.wrap(data));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void echo(SmuxStream s) {
        try (s; InputStream in = s.inputStream()) {
            in.transferTo(s.outputStream());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
