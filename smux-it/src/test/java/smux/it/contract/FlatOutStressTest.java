package smux.it.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.it.OwnThreads;

/**
 * One stream flat out for a few seconds, on each transport and version, while the application
 * reads in random-sized chunks with random short pauses, so that a version 1 session's receive
 * budget fills and frees thousands of times. A running checksum of what was written must equal
 * that of what was read, byte count included, and the receiver must never stall.
 *
 * <p>This is the regression test of issue 13 (version 1 over NIO fed bytes out of order, or
 * stopped reading for good, when the budget was freed at the wrong moment): on the old code it
 * failed in most runs within its time on a 2-core machine. Longer runs:
 * {@code -Dsmux.stress.seconds=60}.
 */
class FlatOutStressTest {
    private static final long SECONDS = Long.getLong("smux.stress.seconds", 3);
    /** A small version 1 budget: it fills and frees often, which is what this test is about. */
    private static final long V1_BUDGET = 256 * 1024;
    private static final int WRITE = 128 * 1024;

    @ParameterizedTest(name = "{0} v{1}")
    @CsvSource({"socket, 1", "socket, 2", "nio, 1", "nio, 2"})
    @Timeout(120)
    void everyByteArrivesOnceAndInOrder(String transport, int version) throws Exception {
        SmuxConfig.Builder config = SmuxConfig.builder().version(version);
        if (version == 1) {
            config.maxSessionBuffer(V1_BUDGET);
        }
        byte[] source = new byte[4 << 20];
        new Random(version * 31L + transport.length()).nextBytes(source);
        try (SessionPair p = SessionPair.open(transport, config)) {
            SmuxStream out = p.client.openStream();
            SmuxStream in = p.server.acceptStream();
            AtomicLong received = new AtomicLong();
            CompletableFuture<long[]> writer = OwnThreads.supply(() -> write(out, source));
            CompletableFuture<long[]> reader = OwnThreads.supply(() -> read(in, received, version));
            Supplier<String> sessions = () -> "; client session: " + describe(p.client) + "; server session: "
                    + describe(p.server);
            long[] sent = waitWhileMoving(writer, received, "writer", sessions);
            long[] got = waitWhileMoving(reader, received, "reader", sessions);
            assertEquals(sent[0], got[0], "bytes read vs bytes written");
            assertEquals(Long.toHexString(sent[1]), Long.toHexString(got[1]), "CRC32C of what was read vs written");
        }
    }

    private static String describe(smux.api.Session s) {
        return s.isClosed() ? "closed, " + s.closeCause().map(Throwable::toString).orElse("locally") : "open";
    }

    /** Waits for {@code task}, failing if the receiver makes no progress for 10 s (a stall). */
    private static long[] waitWhileMoving(CompletableFuture<long[]> task, AtomicLong received, String what,
                                          Supplier<String> state) throws Exception {
        long last = -1;
        while (true) {
            try {
                return task.get(10, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                long now = received.get();
                if (now == last) {
                    fail("the receiver stalled at " + now + " bytes: no progress for 10 s while the " + what + " waited" + state.get());
                }
                last = now;
            } catch (ExecutionException e) {
                throw new AssertionError("the " + what + " failed after " + received.get() + " bytes were read: " + e.getCause()
                        + state.get(),
                        e.getCause());
            }
        }
    }

    private static long[] write(SmuxStream out, byte[] source) {
        CRC32C crc = new CRC32C();
        long total = 0;
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
        int offset = 0;
        try {
            while (System.nanoTime() - end < 0) {
                ByteBuffer chunk = ByteBuffer.wrap(source, offset, WRITE);
                crc.update(chunk.duplicate());
                while (chunk.hasRemaining()) {
                    out.write(chunk);
                }
                total += WRITE;
                offset = (offset + 12_347) % (source.length - WRITE);
            }
            out.closeWrite();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("write failed after " + total + " bytes", e);
        }
        return new long[] {total, crc.getValue()};
    }

    private static long[] read(SmuxStream in, AtomicLong received, int version) {
        Random random = new Random(version);
        CRC32C crc = new CRC32C();
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        try {
            while (true) {
                buf.clear().limit(1 + random.nextInt(buf.capacity()));
                int n = in.read(buf);
                if (n < 0) {
                    return new long[] {received.get(), crc.getValue()};
                }
                buf.flip();
                crc.update(buf);
                received.addAndGet(n);
                if (random.nextInt(8) == 0) {
                    LockSupport.parkNanos(random.nextInt(300_000)); // let the budget fill up now and then
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("read failed after " + received.get() + " bytes", e);
        }
    }
}
