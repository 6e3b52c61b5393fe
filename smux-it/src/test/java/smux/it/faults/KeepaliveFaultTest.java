package smux.it.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import eu.rekawek.toxiproxy.model.ToxicDirection;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import smux.api.AbandonedBytesException;
import smux.api.Session;
import smux.api.SessionClosedException;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.it.toxi.Await;
import smux.it.toxi.ToxiproxyBackend;
import smux.it.toxi.ToxiproxyExtension;

/**
 * Keepalive against real link faults, with short settings ({@value #INTERVAL_MILLIS} ms / {@value #TIMEOUT_MILLIS} ms):
 * a peer gone silent (a {@code timeout} toxic left in place swallows everything it sends, and the connection
 * stays open) is detected within the keepalive timeout; a link that is busy but very slow never is, even when a
 * single data frame takes several keepalive timeouts to cross it.
 */
@ExtendWith(ToxiproxyExtension.class)
class KeepaliveFaultTest {
    static final long INTERVAL_MILLIS = 200;
    static final long TIMEOUT_MILLIS = 1000;
    /** Scheduling slack allowed beyond the keepalive timeout. */
    static final long MARGIN_MILLIS = 500;

    private static SmuxConfig config(String transport, int version) {
        return SmuxConfig.builder().transport(transport).version(version)
                .keepAlive(Duration.ofMillis(INTERVAL_MILLIS), Duration.ofMillis(TIMEOUT_MILLIS)).build();
    }

    @ParameterizedTest(name = "{0} v{1}")
    @MethodSource("smux.it.faults.Faults#transportsAndVersions")
    @Timeout(30)
    void aSilentPeerIsDetectedWithinTheKeepaliveTimeout(String transport, int version, ToxiproxyBackend toxiproxy)
            throws Exception {
        ExecutorService pool = Faults.pool("fault-keepalive", 0);
        try (ProxiedPair pair = ProxiedPair.open(toxiproxy, "silent-" + transport + "-v" + version, config(transport, version))) {
            SmuxStream stream = pair.client.openStream();
            stream.write(ByteBuffer.wrap(new byte[] {1}));
            SmuxStream accepted = pair.server.acceptStream(Duration.ofSeconds(5));
            assertEquals(1, accepted.inputStream().read());
            // Alive and idle for a few keepalive intervals: the NOPs keep it up.
            assertTrue(Faults.holdsFor(3 * INTERVAL_MILLIS, () -> !pair.client.isClosed() && !pair.server.isClosed()),
                    "an idle session with keepalive closed");

            // From now on nothing the server sends reaches the client, and the connection stays open.
            long silenced = System.nanoTime();
            pair.proxy.toxics().timeout("silence", ToxicDirection.DOWNSTREAM, 0);
            Future<Object> blockedRead = pool.submit(() -> {
                try {
                    return stream.read(ByteBuffer.allocate(1));
                } catch (Exception e) {
                    return e;
                }
            });
            Await.until(Duration.ofMillis(TIMEOUT_MILLIS + MARGIN_MILLIS), pair.client::isClosed,
                    () -> "the client session is still open " + (TIMEOUT_MILLIS + MARGIN_MILLIS)
                            + " ms after its peer went silent");
            long closedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - silenced);
            // The last byte arrived about one keepalive interval, at most, before the silence began; half the
            // timeout leaves room for a late keepalive on a loaded machine and still rules out a hasty close.
            assertTrue(closedAfter >= TIMEOUT_MILLIS / 2,
                    () -> "closed " + closedAfter + " ms after the silence began, before its keepalive timeout");
            SessionClosedException cause = pair.client.closeCause().orElseThrow();
            assertTrue(cause.getMessage().contains("keepalive"), cause::toString);
            assertInstanceOf(SessionClosedException.class, blockedRead.get(1, TimeUnit.SECONDS),
                    "the read blocked on the silent session must fail");
            // The server learns of it when the client's close comes through.
            Await.until(Duration.ofSeconds(5), pair.server::isClosed, () -> "the server never noticed the client's close");
            System.out.println("[keepalive] " + transport + " v" + version + ": silent peer detected after " + closedAfter
                    + " ms (" + cause.getMessage() + ")");
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * {@value #RATE_KBPS} KB/s each way: a default 32 KiB frame takes more than five keepalive timeouts to cross; each side's own
     * keepalive frames wait behind the data it already committed. Data flows both ways for
     * {@value #BUSY_MILLIS} ms and neither side may give up on the other.
     */
    @ParameterizedTest(name = "{0} v{1}")
    @MethodSource("smux.it.faults.Faults#transportsAndVersions")
    @Timeout(30)
    void aBusySlowLinkNeverTripsTheKeepalive(String transport, int version, ToxiproxyBackend toxiproxy) throws Exception {
        ExecutorService pool = Faults.pool("fault-busy", 0);
        // closing with committed data still stuck behind the slow link gives up after closeTimeout: keep it short
        SmuxConfig config = config(transport, version).toBuilder().closeTimeout(Duration.ofMillis(200)).build();
        try (ProxiedPair pair = ProxiedPair.open(toxiproxy, "busy-" + transport + "-v" + version, config)) {
            pair.proxy.toxics().bandwidth("slow-up", ToxicDirection.UPSTREAM, RATE_KBPS);
            pair.proxy.toxics().bandwidth("slow-down", ToxicDirection.DOWNSTREAM, RATE_KBPS);
            Pattern pattern = new Pattern(7);
            SmuxStream up = pair.client.openStream();
            Pattern.Sender sendUp = pattern.new Sender(up, -1, false, 1, 64 * 1024);
            pool.execute(sendUp);
            Pattern.Receiver receiveUp = pattern.new Receiver(pair.server.acceptStream(Duration.ofSeconds(10))).start();
            SmuxStream down = pair.server.openStream();
            Pattern.Sender sendDown = pattern.new Sender(down, -1, false, 2, 64 * 1024);
            pool.execute(sendDown);
            Pattern.Receiver receiveDown = pattern.new Receiver(pair.client.acceptStream(Duration.ofSeconds(10))).start();

            long start = System.nanoTime();
            boolean up2 = Faults.holdsFor(BUSY_MILLIS, () -> !pair.client.isClosed() && !pair.server.isClosed());
            long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            String state = "after " + elapsed + " ms: client " + pair.client.closeCause() + ", server "
                    + pair.server.closeCause() + "; up " + receiveUp + ", down " + receiveDown;
            assertTrue(up2, "a busy link tripped the keepalive " + state);
            // The link really was busy the whole time, in both directions.
            long expected = RATE_KBPS * 1000 * BUSY_MILLIS / 1000;
            assertTrue(receiveUp.total() >= expected / 2 && receiveDown.total() >= expected / 2,
                    () -> "the link was not kept busy (" + expected + " bytes each way possible): " + state);
            assertTrue(sendUp.committed() > receiveUp.total() && sendDown.committed() > receiveDown.total(),
                    () -> "the senders were not ahead of the link: " + state);
            assertEquals(-1, receiveUp.firstWrongOffset(), state);
            assertEquals(-1, receiveDown.firstWrongOffset(), state);
            System.out.println("[keepalive] " + transport + " v" + version + ": busy link, session up " + state);
            // Closing now gives up what is stuck behind the slow link (version 1 commits more than
            // the link carries in closeTimeout), and must say so, exactly as the stats do.
            long receivedUp = receiveUp.total();
            long receivedDown = receiveDown.total();
            closeGivingUpAtMost(pair.client, sendUp, receivedUp);
            closeGivingUpAtMost(pair.server, sendDown, receivedDown);
        } finally {
            pool.shutdownNow();
        }
    }

    /** Closes {@code session}; what it gives up can only be committed bytes the peer had not received. */
    private static void closeGivingUpAtMost(Session session, Pattern.Sender sender, long receivedBefore) {
        try {
            session.close();
        } catch (AbandonedBytesException e) {
            assertEquals(e.abandonedBytes(), session.stats().committedBytesAbandoned(), "the exception and the stats agree");
            assertTrue(e.abandonedBytes() <= sender.committed() - receivedBefore, () -> "gave up " + e.abandonedBytes()
                    + " bytes, but only " + (sender.committed() - receivedBefore) + " committed bytes had not arrived");
        }
    }

    static final long RATE_KBPS = 6;
    static final long BUSY_MILLIS = 3000;
}
