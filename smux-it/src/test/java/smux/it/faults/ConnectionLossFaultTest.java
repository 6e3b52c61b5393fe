package smux.it.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import eu.rekawek.toxiproxy.model.ToxicDirection;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import smux.api.SessionClosedException;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.it.toxi.Await;
import smux.it.toxi.ToxiproxyBackend;
import smux.it.toxi.ToxiproxyExtension;

/**
 * The connection dies mid-transfer: Toxiproxy resets it ({@code reset_peer}) or cuts it after a number of bytes
 * ({@code limit_data}) while data flows both ways. Every call blocked on either side (a write, a read with data
 * flowing, a read on an idle stream, an accept) must fail within a second; what each receiver got must be a
 * prefix of what its sender committed (checked byte by byte: no gap, no duplicate); and once both sessions are
 * closed, no smux thread and no file descriptor may be left behind.
 */
@ExtendWith(ToxiproxyExtension.class)
class ConnectionLossFaultTest {
    private static final long FAIL_WITHIN_MILLIS = 1000;
    private static final long UNDER_WAY = 256 * 1024;

    @ParameterizedTest(name = "{0} v{1}")
    @MethodSource("smux.it.faults.Faults#transportsAndVersions")
    @Timeout(60)
    void resetPeerMidTransferFailsEveryBlockedCallAndLeaksNothing(String transport, int version,
                                                                  ToxiproxyBackend toxiproxy) throws Exception {
        loseTheConnectionMidTransfer(toxiproxy, transport, version, true);
    }

    @ParameterizedTest(name = "{0} v{1}")
    @MethodSource("smux.it.faults.Faults#transportsAndVersions")
    @Timeout(60)
    void limitDataMidTransferFailsEveryBlockedCallAndLeaksNothing(String transport, int version,
                                                                  ToxiproxyBackend toxiproxy) throws Exception {
        loseTheConnectionMidTransfer(toxiproxy, transport, version, false);
    }

    private record Ended(Object result, long atNanos) {
    }

    private static Callable<Ended> timed(Callable<?> call) {
        return () -> {
            Object result;
            try {
                result = call.call();
            } catch (Exception e) {
                result = e;
            }
            return new Ended(result, System.nanoTime());
        };
    }

    private void loseTheConnectionMidTransfer(ToxiproxyBackend toxiproxy, String transport, int version, boolean reset)
            throws Exception {
        SmuxConfig config = SmuxConfig.builder().transport(transport).version(version).build();
        ExecutorService pool = Faults.pool("fault-loss", 0);
        Pattern pattern = new Pattern(version * 31L + transport.length());
        ProxiedPair pair = ProxiedPair.create(toxiproxy, (reset ? "reset-" : "limit-") + transport + "-v" + version);
        try {
            if (reset) {
                // reset_peer sets SO_LINGER 0 (close = RST) only on connections made while it exists: arm the
                // connection with it, and take it off before anything travels server -> client.
                pair.proxy.toxics().resetPeer("arm-rst", ToxicDirection.DOWNSTREAM, 0);
            }
            long threadsBefore = Faults.smuxThreads();
            long filesBefore = Faults.openFiles();
            pair.connect(config, config);

            SmuxStream up = pair.client.openStream();
            SmuxStream idleClient = pair.client.openStream();
            SmuxStream upServer = pair.server.acceptStream(Duration.ofSeconds(10));
            SmuxStream idleServer = pair.server.acceptStream(Duration.ofSeconds(10));
            if (reset) {
                pair.proxy.toxics().get("arm-rst").remove();
            }
            SmuxStream down = pair.server.openStream();
            Pattern.Sender sendDown = pattern.new Sender(down, -1, false, 2, 48 * 1024);
            pool.execute(sendDown);
            SmuxStream downClient = pair.client.acceptStream(Duration.ofSeconds(10));
            Pattern.Sender sendUp = pattern.new Sender(up, -1, false, 1, 48 * 1024);
            pool.execute(sendUp);
            Pattern.Receiver receiveUp = pattern.new Receiver(upServer).start();
            Pattern.Receiver receiveDown = pattern.new Receiver(downClient).start();

            Map<String, Future<Ended>> blocked = new LinkedHashMap<>();
            blocked.put("client idle read", pool.submit(timed(() -> idleClient.read(ByteBuffer.allocate(1)))));
            blocked.put("server idle read", pool.submit(timed(() -> idleServer.read(ByteBuffer.allocate(1)))));
            blocked.put("client accept", pool.submit(timed(() -> pair.client.acceptStream())));
            blocked.put("server accept", pool.submit(timed(() -> pair.server.acceptStream())));

            assertTrue(receiveUp.awaitTotal(UNDER_WAY, 10_000), () -> "client -> server never got going: " + receiveUp);
            assertTrue(receiveDown.awaitTotal(UNDER_WAY, 10_000), () -> "server -> client never got going: " + receiveDown);
            for (Map.Entry<String, Future<Ended>> e : blocked.entrySet()) {
                assertFalse(e.getValue().isDone(), () -> e.getKey() + " returned before the fault: " + get(e.getValue()));
            }
            assertFalse(sendUp.done() || sendDown.done() || receiveUp.ended() || receiveDown.ended(),
                    "a transfer ended before the fault");

            // Timed from before the toxic is asked for: the bound includes Toxiproxy's own reaction.
            long fault = System.nanoTime();
            if (reset) {
                pair.proxy.toxics().resetPeer("reset", ToxicDirection.DOWNSTREAM, 0);
            } else {
                pair.proxy.toxics().limitData("limit", ToxicDirection.UPSTREAM, 64 * 1024);
            }

            // Every blocked call fails, promptly.
            List<String> report = new ArrayList<>();
            for (Map.Entry<String, Future<Ended>> e : blocked.entrySet()) {
                Ended ended = e.getValue().get(10, TimeUnit.SECONDS);
                report.add(e.getKey() + ": " + describe(ended.result) + " after " + millis(ended.atNanos - fault) + " ms");
                assertInstanceOf(SessionClosedException.class, ended.result, () -> e.getKey() + ": " + report);
                assertTrue(millis(ended.atNanos - fault) <= FAIL_WITHIN_MILLIS, () -> e.getKey() + ": " + report);
            }
            for (Pattern.Receiver r : List.of(receiveUp, receiveDown)) {
                assertTrue(r.awaitEnd(10_000), "a reader is still blocked: " + r);
                report.add("reader " + r + " after " + millis(r.endedAtNanos() - fault) + " ms");
                assertInstanceOf(SessionClosedException.class, r.failure(),
                        () -> "a read of a stream the peer never finished must fail, not end: " + report);
                assertTrue(millis(r.endedAtNanos() - fault) <= FAIL_WITHIN_MILLIS, report::toString);
            }
            for (Pattern.Sender s : List.of(sendUp, sendDown)) {
                Await.until(Duration.ofSeconds(10), s::done, () -> "a writer is still blocked: " + report);
                report.add("writer: " + s.committed() + " bytes committed, then " + describe(s.failure()) + " after "
                        + millis(s.endedAtNanos() - fault) + " ms");
                assertInstanceOf(SessionClosedException.class, s.failure(), report::toString);
                assertTrue(millis(s.endedAtNanos() - fault) <= FAIL_WITHIN_MILLIS, report::toString);
            }
            System.out.println("[connection loss] " + transport + " v" + version + (reset ? " reset_peer: " : " limit_data: ")
                    + report);

            // What arrived is a prefix of what was committed: every byte in place, none beyond.
            assertEquals(-1, receiveUp.firstWrongOffset(), receiveUp::toString);
            assertEquals(-1, receiveDown.firstWrongOffset(), receiveDown::toString);
            assertTrue(receiveUp.total() <= sendUp.committed(), () -> receiveUp + " but " + sendUp.committed() + " committed");
            assertTrue(receiveDown.total() <= sendDown.committed(), () -> receiveDown + " but " + sendDown.committed() + " committed");

            // Both sessions know why they ended.
            assertTrue(pair.client.isClosed() && pair.server.isClosed());
            assertTrue(pair.client.closeCause().isPresent() && pair.server.closeCause().isPresent());
            if (reset) {
                // Toxiproxy resets the client's connection (linger 0), but which of its goroutines
                // closes first is a race of its own, and so is which of our threads meets the cut first.
                // Each session names what it saw: a reset (the reader), a broken pipe (the writer, on the
                // reset connection), a connection that ended inside a frame, or, when Toxiproxy's FIN
                // fell between frames, the peer closing it. Through the container backend on a loaded
                // machine the last two ways came in 5 of 21 runs. Anything else (a timeout, another
                // violation, no cause) is not the cut named.
                String causes = pair.client.closeCause().get() + " / " + pair.server.closeCause().get();
                for (String cause : List.of(pair.client.closeCause().get().toString(), pair.server.closeCause().get().toString())) {
                    String c = cause.toLowerCase(Locale.ROOT);
                    assertTrue(c.contains("reset") || c.contains("broken pipe") || c.contains("truncated_frame")
                            || c.contains("the peer closed the connection"), () -> "not the cut named: " + causes);
                }
            }

            // Nothing is left behind: the transports' threads end, and every socket is closed.
            pair.client.close();
            pair.server.close();
            Await.until(Duration.ofSeconds(5), () -> Faults.smuxThreads() <= threadsBefore,
                    () -> "smux threads: " + threadsBefore + " before, " + Faults.smuxThreads() + " after");
            if (filesBefore >= 0) {
                Await.until(Duration.ofSeconds(5), () -> Faults.openFiles() <= filesBefore,
                        () -> "file descriptors: " + filesBefore + " before, " + Faults.openFiles() + " after");
            }
        } finally {
            pool.shutdownNow();
            pair.close();
        }
    }

    private static String describe(Object result) {
        return result instanceof Exception e ? e.getClass().getSimpleName() + "(" + e.getMessage() + ")" : "returned " + result;
    }

    private static Object get(Future<Ended> f) {
        try {
            return f.get().result;
        } catch (Exception e) {
            return e;
        }
    }

    private static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }
}
