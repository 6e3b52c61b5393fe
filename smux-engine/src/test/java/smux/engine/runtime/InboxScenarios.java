package smux.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import smux.api.StreamClosedException;

/**
 * Concurrent scenarios of one stream's receive side, each a few threads that play the parts the
 * runtime gives them: the connection's driver (append what the engine accepted, finish on the
 * peer's FIN, ask to hear of consumption), the application's readers, a closing thread, and the
 * session ending (fail). Reads wait without a timeout, so a reader that is not woken stays blocked;
 * the checker explores the receive side's lock and condition as real blocking, so it reports such
 * a schedule as a deadlock.
 *
 * <p>Every scenario checks, once all threads are done, that the bytes were read in order and
 * exactly once (a byte is read, or counted as dropped by a close or a failure, never both, never
 * twice), that every reader ended, and how it ended; the first also checks the consumption report.
 */
final class InboxScenarios {
    /** The four bytes every scenario delivers, in two appends of two. */
    static final byte[] DATA = {1, 2, 3, 4};

    private InboxScenarios() {
    }

    /** The common state: the receive side, the bytes each reader got, the reports. */
    private abstract static class InboxScenario extends ModelCheck.Scenario {
        final Inbox inbox;
        /** Reports of consumption received (the Runnable given to the receive side). */
        final AtomicInteger reports = new AtomicInteger();
        /** The thread that waits for reports, if any. */
        volatile Thread reportWaiter;

        InboxScenario(Inbox.Factory factory) {
            inbox = factory.create(new SegmentPool(2), new Report(this));
        }

        /** The consumption report, a class rather than a lambda so that the checker can follow it. */
        private static final class Report implements Runnable {
            private final InboxScenario scenario;

            Report(InboxScenario scenario) {
                this.scenario = scenario;
            }

            @Override
            public void run() {
                scenario.reports.incrementAndGet();
                ExactPark.unpark(scenario.reportWaiter);
            }
        }

        /** Waits (the driver, like the engine waiting for an UPD's worth of reading) for {@code n} reports. */
        void awaitReports(int n) {
            reportWaiter = Thread.currentThread(); // before looking: a report after it unparks us
            while (reports.get() < n) {
                ExactPark.park(this);
            }
        }

        /** Appends bytes {@code [from, to)} of {@link #DATA}, as the driver does with a frame's payload. */
        void deliver(int from, int to) {
            ByteBuffer frame = ByteBuffer.wrap(DATA, from, to - from);
            inbox.append(frame, to - from);
            assertEquals(to, frame.position(), "append did not take the frame's bytes");
        }
    }

    /** A reader: reads into a small buffer until the end of the stream or an exception. */
    static final class Reader {
        private final Inbox inbox;
        private final int size;
        private final ByteBuffer got = ByteBuffer.allocate(16);
        /** What ended the reads: null for end-of-stream, else the exception. */
        IOException end;
        boolean endOfStream;

        Reader(Inbox inbox, int size) {
            this.inbox = inbox;
            this.size = size;
        }

        void readToEnd() {
            while (readOnce()) {
                // until the end of the stream or an exception
            }
        }

        /** @return false once the stream ended (end-of-stream or exception) */
        boolean readOnce() {
            ByteBuffer dst = ByteBuffer.allocate(size);
            try {
                int n = inbox.read(dst, "stream 1");
                if (n < 0) {
                    endOfStream = true;
                    return false;
                }
                assertEquals(n, dst.position(), "read returned a count its buffer does not hold");
                got.put(dst.flip());
                return true;
            } catch (IOException e) {
                end = e;
                return false;
            }
        }

        byte[] bytes() {
            return Arrays.copyOf(got.array(), got.position());
        }
    }

    /** Asserts that {@code got} is the first bytes of {@link #DATA}. */
    static void assertPrefix(byte[] got, String what) {
        assertTrue(got.length <= DATA.length, what + ": more bytes read than delivered");
        assertArrayEquals(Arrays.copyOf(DATA, got.length), got, what + ": bytes read out of order or twice");
    }

    /**
     * The driver delivers in turns, as a peer that waits for a window update does: it asks to hear
     * once 1 byte was read, delivers 2 in two appends, waits for the report, asks for 4, delivers
     * 2 more in one append, waits, then finishes. A reader reads through a 2-byte buffer (so the
     * driver copies straight into it, all of an append or part of one, or buffers). A lost wake-up
     * of the reader, or a lost or extra report, fails the schedule.
     */
    static final class DeliveredInTurns extends InboxScenario {
        private final Reader reader = new Reader(inbox, 2);

        DeliveredInTurns(Inbox.Factory factory) {
            super(factory);
        }

        @Override
        int threads() {
            return 2;
        }

        @Override
        void thread(int i) {
            if (i == 0) {
                reader.readToEnd();
            } else {
                inbox.requestConsumption(1);
                deliver(0, 1);
                deliver(1, 2);
                awaitReports(1);
                inbox.requestConsumption(4);
                deliver(2, 4);
                awaitReports(2);
                inbox.finish();
            }
        }

        @Override
        void check() {
            assertArrayEquals(DATA, reader.bytes(), "the reader did not get every byte once, in order");
            assertTrue(reader.endOfStream, "the read after the FIN did not return end-of-stream");
            assertEquals(4, inbox.consumed());
            assertEquals(2, reports.get(), "consumption was reported a wrong number of times");
        }
    }

    /**
     * Consumption is reported once per request: the driver asks to hear once 1 byte was read,
     * delivers 2 in two appends, waits for the report, then finishes; the reader reads one byte at
     * a time, so the second byte is read past the total already reported.
     */
    static final class ReportedOncePerRequest extends InboxScenario {
        private final Reader reader = new Reader(inbox, 1);

        ReportedOncePerRequest(Inbox.Factory factory) {
            super(factory);
        }

        @Override
        int threads() {
            return 2;
        }

        @Override
        void thread(int i) {
            if (i == 0) {
                reader.readToEnd();
            } else {
                inbox.requestConsumption(1);
                deliver(0, 1);
                deliver(1, 2);
                awaitReports(1);
                inbox.finish();
            }
        }

        @Override
        void check() {
            assertArrayEquals(Arrays.copyOf(DATA, 2), reader.bytes(), "the reader did not get every byte once, in order");
            assertTrue(reader.endOfStream);
            assertEquals(1, reports.get(), "consumption was reported a wrong number of times");
        }
    }

    /**
     * The driver delivers 4 bytes and the FIN while the application closes the stream and a reader
     * reads. Every byte is read or dropped, exactly once; the reader ends, at end-of-stream only if
     * it read everything first, else with the close.
     */
    static final class CloseWhileDelivering extends InboxScenario {
        private final Reader reader = new Reader(inbox, 3);

        CloseWhileDelivering(Inbox.Factory factory) {
            super(factory);
        }

        @Override
        int threads() {
            return 3;
        }

        @Override
        void thread(int i) {
            switch (i) {
                case 0 -> reader.readToEnd();
                case 1 -> {
                    deliver(0, 2);
                    deliver(2, 4);
                    inbox.finish();
                }
                default -> inbox.close();
            }
        }

        @Override
        void check() {
            byte[] got = reader.bytes();
            assertPrefix(got, "a read racing a close");
            assertEquals(DATA.length, got.length + inbox.dropped(), "bytes read plus bytes dropped");
            if (reader.endOfStream) {
                assertEquals(DATA.length, got.length, "end-of-stream before every byte was read");
            } else {
                assertTrue(reader.end instanceof StreamClosedException, () -> "the reader ended with " + reader.end);
            }
        }
    }

    /**
     * The session ends (fail, keeping what was buffered) while the driver delivers 4 bytes and a
     * reader reads. The reader reads in order, and ends with the session's error, never at a
     * seeming end-of-stream.
     */
    static final class FailWhileDelivering extends InboxScenario {
        private final Reader reader = new Reader(inbox, 3);
        private final IOException sessionOver = new IOException("the session is over");

        FailWhileDelivering(Inbox.Factory factory) {
            super(factory);
        }

        @Override
        int threads() {
            return 3;
        }

        @Override
        void thread(int i) {
            switch (i) {
                case 0 -> reader.readToEnd();
                case 1 -> {
                    deliver(0, 2);
                    deliver(2, 4);
                }
                default -> inbox.fail(sessionOver, false);
            }
        }

        @Override
        void check() {
            assertPrefix(reader.bytes(), "a read racing the session's end");
            assertSame(sessionOver, reader.end, "the reader did not end with the session's error");
        }
    }

    /**
     * Two readers on one stream, each wanting two bytes, while the driver delivers 4 bytes in two
     * appends: bytes delivered while one reader's own buffer holds bytes copied straight into it
     * must still wake the other reader.
     */
    static final class TwoReaders extends InboxScenario {
        private final Reader first = new Reader(inbox, 2);
        private final Reader second = new Reader(inbox, 2);

        TwoReaders(Inbox.Factory factory) {
            super(factory);
        }

        @Override
        int threads() {
            return 3;
        }

        @Override
        void thread(int i) {
            switch (i) {
                case 0 -> first.readOnce();
                case 1 -> second.readOnce();
                default -> {
                    deliver(0, 2);
                    deliver(2, 4);
                }
            }
        }

        @Override
        void check() {
            byte[] a = first.bytes();
            byte[] b = second.bytes();
            assertEquals(DATA.length, a.length + b.length, "bytes read by the two readers");
            byte[] all = Arrays.copyOf(a, DATA.length);
            System.arraycopy(b, 0, all, a.length, b.length);
            Arrays.sort(all);
            assertArrayEquals(DATA, all, "a byte was read twice, or not at all");
            for (byte[] r : new byte[][] {a, b}) {
                for (int k = 1; k < r.length; k++) {
                    assertTrue(r[k - 1] < r[k], "one reader got bytes out of order");
                }
            }
        }
    }
}
