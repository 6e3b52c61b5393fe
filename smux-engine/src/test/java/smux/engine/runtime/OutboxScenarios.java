package smux.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Concurrent scenarios of one stream's outbox, each a few threads that play the parts the runtime
 * gives them: the application's writing thread (post, park until the write ends, or withdraw as a
 * timeout does), a closing thread ({@code closeWrite}, or {@code release} then {@code wake} as
 * {@code StreamHandle.close} does), and the connection's driver, which is told of each change (as
 * {@code StreamOps.outboundChanged} tells it) and then copies frames of at most {@link #FRAME} bytes
 * the way {@code SendScheduler.pull} does, and decides the FIN the way {@code SmuxEngine} does
 * (writing closed, nothing pending).
 *
 * <p>Every scenario checks the outbox's promises once all threads are done:
 * <ul>
 *   <li>the staging buffer holds exactly the first {@code c} bytes of the write, in order, where
 *       {@code c} is what the write reports as committed and also how far its buffer's position
 *       moved: a copy either finishes and counts, or never starts;</li>
 *   <li>nothing is copied after the FIN was decided;</li>
 *   <li>every thread finishes: a writer parked until its write ends, or a withdrawer parked until a
 *       copy ends, is always woken (the checker reports a schedule in which it is not).</li>
 * </ul>
 */
final class OutboxScenarios {
    /** The largest frame the driver copies at once: a 5-byte write takes three copies. */
    static final int FRAME = 2;

    private OutboxScenarios() {
    }

    /** A write of 5 bytes, {@code first}, {@code first + 1}, ... */
    static byte[] data(int first) {
        byte[] b = new byte[5];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (first + i);
        }
        return b;
    }

    /**
     * The connection's driver for one outbox: waits for each change it is told of, then copies all
     * that is pending and decides the FIN. A copy after the FIN fails the scenario.
     */
    static final class Driver {
        private final Outbox box;
        /** Changes told so far. */
        private final AtomicInteger told = new AtomicInteger();
        private volatile Thread thread;
        final ByteBuffer staging = ByteBuffer.allocate(64);
        /** Bytes staged when the FIN was decided; -1 while it was not. */
        int finAt = -1;
        /** Bytes copied after the FIN was decided (recorded, not thrown, so that no thread is left waiting for this one). */
        int copiedAfterFin;

        Driver(Outbox box) {
            this.box = box;
        }

        /** Called by a writer or closer after it changed the outbox (StreamOps.outboundChanged). */
        void changed() {
            told.incrementAndGet();
            ExactPark.unpark(thread);
        }

        /** The driver thread's body: serves {@code changes} notices, each once it was told. */
        void serve(int changes) {
            thread = Thread.currentThread(); // before looking at the count: a notice after it unparks us
            for (int i = 1; i <= changes; i++) {
                while (told.get() < i) {
                    ExactPark.park(this); // the harness's own wait: exact, so it costs the checker no spinning
                }
                pull();
            }
        }

        private void pull() {
            while (true) {
                int waiting = box.pending();
                if (waiting == 0) {
                    break;
                }
                int chunk = box.commit(staging, Math.min(FRAME, waiting));
                if (chunk == 0) {
                    break; // withdrawn since pending() was asked
                }
                if (finAt >= 0) {
                    copiedAfterFin += chunk;
                }
            }
            if (finAt < 0 && box.writeClosed() && box.pending() == 0) {
                finAt = staging.position();
            }
        }

        /** @return the bytes staged so far, having checked that none was copied after the FIN */
        byte[] staged() {
            assertEquals(0, copiedAfterFin, "bytes were copied after the FIN was decided");
            return Arrays.copyOf(staging.array(), staging.position());
        }
    }

    /** Asserts that {@code staged} is exactly the first {@code committed} bytes of {@code data}. */
    static void assertCommitted(byte[] data, int committed, byte[] staged, String what) {
        assertArrayEquals(Arrays.copyOf(data, committed), staged,
                what + ": the staged bytes are not the first " + committed + " bytes of the write");
    }

    /** The common state: the outbox, its driver, a 5-byte write. */
    private abstract static class OutboxScenario extends ModelCheck.Scenario {
        final Outbox box;
        final Driver driver;
        final byte[] data = data(1);
        final ByteBuffer src = ByteBuffer.wrap(data);

        OutboxScenario(Supplier<Outbox> outbox) {
            box = outbox.get();
            driver = new Driver(box);
        }

        /** Waits, as a write does, until the write in progress has ended. */
        void awaitEnd() {
            while (!box.ended()) {
                box.await(-1);
            }
        }
    }

    /**
     * A write, withdrawn at once (its deadline passed) while the driver copies it. What the withdraw
     * reports is what was staged, and the driver, told again after the withdraw, copies nothing more.
     */
    static final class WriteWithdrawnWhileCopied extends OutboxScenario {
        private int committed;

        WriteWithdrawnWhileCopied(Supplier<Outbox> outbox) {
            super(outbox);
        }

        @Override
        int threads() {
            return 2;
        }

        @Override
        void thread(int i) {
            if (i == 0) {
                assertTrue(box.post(src));
                driver.changed();
                committed = box.withdraw();
                driver.changed();
            } else {
                driver.serve(2);
            }
        }

        @Override
        void check() {
            assertEquals(committed, src.position(), "the withdraw reported what the buffer's position does not say");
            assertCommitted(data, committed, driver.staged(), "after the withdraw");
            assertTrue(box.ended());
            assertEquals(0, box.pending());
        }
    }

    /**
     * A write that waits to be copied, while another thread closes the stream (release, then wake,
     * as {@code StreamHandle.close} does). The writer wakes either way; the FIN follows what was
     * staged.
     */
    static final class WriteWaitsWhileStreamCloses extends OutboxScenario {
        private boolean posted;
        private int committed;

        WriteWaitsWhileStreamCloses(Supplier<Outbox> outbox) {
            super(outbox);
        }

        @Override
        int threads() {
            return 3;
        }

        @Override
        void thread(int i) {
            switch (i) {
                case 0 -> {
                    posted = box.post(src);
                    driver.changed();
                    if (posted) {
                        awaitEnd();
                    }
                    committed = box.committed();
                }
                case 1 -> {
                    box.release();
                    box.wake();
                    driver.changed();
                }
                default -> driver.serve(2);
            }
        }

        @Override
        void check() {
            assertEquals(src.position(), posted ? committed : 0, "what the write reports as committed");
            assertCommitted(data, src.position(), driver.staged(), "after a close during the write");
            assertEquals(src.position(), driver.finAt, "the FIN was not decided right after the last staged byte");
        }
    }

    /**
     * A write whose deadline passes (it withdraws) while another thread closes the stream and
     * withdraws too: both withdrawers may wait for the same copy, and both must be woken; the
     * writing thread's count is exact though the close lets go of the buffer.
     */
    static final class TimeoutAndCloseWithdrawTogether extends OutboxScenario {
        private int committed;

        TimeoutAndCloseWithdrawTogether(Supplier<Outbox> outbox) {
            super(outbox);
        }

        @Override
        int threads() {
            return 3;
        }

        @Override
        void thread(int i) {
            switch (i) {
                case 0 -> {
                    boolean posted = box.post(src);
                    driver.changed();
                    committed = posted ? box.withdraw() : 0;
                    driver.changed();
                }
                case 1 -> {
                    box.release();
                    box.wake();
                    driver.changed();
                }
                default -> driver.serve(3);
            }
        }

        @Override
        void check() {
            assertEquals(src.position(), committed, "the timed-out write reported a wrong committed count");
            assertCommitted(data, committed, driver.staged(), "after timeout and close");
        }
    }

    /**
     * A 1-byte write withdrawn while the driver, once, copies it if it finds it posted: the
     * smallest form of the race between the copy and the withdraw.
     */
    static final class WithdrawRacesOneCopy extends OutboxScenario {
        private final byte[] one = {7};
        private final ByteBuffer write = ByteBuffer.wrap(one);
        private int committed;

        WithdrawRacesOneCopy(Supplier<Outbox> outbox) {
            super(outbox);
        }

        @Override
        int threads() {
            return 2;
        }

        @Override
        void thread(int i) {
            if (i == 0) {
                committed = box.post(write) ? box.withdraw() : 0;
            } else if (box.pending() > 0) {
                box.commit(driver.staging, 1);
            }
        }

        @Override
        void check() {
            assertEquals(write.position(), committed, "the withdraw reported what the buffer's position does not say");
            assertCommitted(one, committed, driver.staged(), "after the withdraw");
        }
    }

    /**
     * The same race, pared down so that the checker reaches deep schedules within few invocations:
     * a 1-byte write, no notices, a driver that copies once if it finds the write posted. A closing
     * thread and the timed-out writer may both wait for that copy; both must be woken, and the
     * count must be exact.
     */
    static final class TwoWithdrawersWaitForOneCopy extends OutboxScenario {
        private final byte[] one = {7};
        private final ByteBuffer write = ByteBuffer.wrap(one);
        private int committed;

        TwoWithdrawersWaitForOneCopy(Supplier<Outbox> outbox) {
            super(outbox);
        }

        @Override
        int threads() {
            return 3;
        }

        @Override
        void thread(int i) {
            switch (i) {
                case 0 -> committed = box.post(write) ? box.withdraw() : 0;
                case 1 -> {
                    box.release();
                    box.wake();
                }
                default -> {
                    if (box.pending() > 0) {
                        box.commit(driver.staging, 1);
                    }
                }
            }
        }

        @Override
        void check() {
            assertEquals(write.position(), committed, "the timed-out write reported a wrong committed count");
            assertCommitted(one, committed, driver.staged(), "after timeout and close");
        }
    }

    /**
     * A write against {@code closeWrite} from another thread: either the post fails (writing was
     * closed first) and nothing is staged, or every byte is copied before the FIN is decided; the
     * FIN is always decided once both told the driver.
     */
    static final class PostRacesCloseWrite extends OutboxScenario {
        private boolean posted;
        private boolean closedHere;

        PostRacesCloseWrite(Supplier<Outbox> outbox) {
            super(outbox);
        }

        @Override
        int threads() {
            return 3;
        }

        @Override
        void thread(int i) {
            switch (i) {
                case 0 -> {
                    posted = box.post(src);
                    driver.changed();
                    if (posted) {
                        awaitEnd();
                    }
                }
                case 1 -> {
                    closedHere = box.closeWrite();
                    driver.changed();
                }
                default -> driver.serve(2);
            }
        }

        @Override
        void check() {
            assertTrue(closedHere, "closeWrite said writing was closed already");
            assertTrue(box.writeClosed(), "writing is not closed after closeWrite");
            int expected = posted ? data.length : 0;
            assertCommitted(data, expected, driver.staged(), posted ? "a write posted before closeWrite" : "a post refused");
            assertEquals(expected, driver.finAt, "the FIN was not decided right after the last byte");
        }
    }

    /**
     * Two writes in a row on one thread, the first withdrawn, the second waited for, while the
     * driver copies: no byte of the first is copied after its withdraw, and the second's copies
     * come from its own buffer, whatever the driver saw of the first when it asked what was pending.
     */
    static final class SecondWriteAfterAWithdrawnOne extends OutboxScenario {
        private final byte[] second = data(11);
        private final ByteBuffer next = ByteBuffer.wrap(second);
        private int committed;

        SecondWriteAfterAWithdrawnOne(Supplier<Outbox> outbox) {
            super(outbox);
        }

        @Override
        int threads() {
            return 2;
        }

        @Override
        void thread(int i) {
            if (i == 0) {
                assertTrue(box.post(src));
                driver.changed();
                committed = box.withdraw();
                driver.changed();
                assertTrue(box.post(next));
                driver.changed();
                awaitEnd();
            } else {
                driver.serve(3);
            }
        }

        @Override
        void check() {
            assertEquals(src.position(), committed);
            assertFalse(next.hasRemaining(), "the second write was not copied whole");
            byte[] expected = Arrays.copyOf(data, committed + second.length);
            System.arraycopy(second, 0, expected, committed, second.length);
            assertArrayEquals(expected, driver.staged(), "the staged bytes of the two writes");
        }
    }
}
