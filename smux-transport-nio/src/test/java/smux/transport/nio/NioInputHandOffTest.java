package smux.transport.nio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import smux.api.SmuxConfig;
import smux.engine.runtime.SessionLink;

/**
 * The NIO connection's input hand-off, driven against a scripted session that plays a version 1
 * engine whose receive budget runs out and is freed by "the application" at the worst moments.
 * Each test sends a known byte sequence from a real peer socket and checks that the session was
 * fed exactly that sequence, in order, with none lost or fed twice, and that reading never stalls.
 *
 * <p>Both scripts reproduce the defect of issue 13 deterministically: the old connection fed new
 * bytes ahead of the bytes the engine had left (the first test saw a reordered stream), and it
 * could leave a reader paused with nobody to resume it (the second test timed out).
 */
@Timeout(30)
class NioInputHandOffTest {
    private static final int TOTAL = 8 << 20;
    /** What the scripted engine takes before its budget is spent again. */
    private static final int BUDGET = 100_003;

    /**
     * The engine leaves bytes; at the very moment the connection asks whether it wants input (its
     * decision to pause or not), the application reads and frees the budget. The connection must
     * feed what was left before anything it reads later.
     */
    @Test
    void bytesLeftByTheEngineAreFedBeforeAnythingReadLater() throws Exception {
        runScript(Moment.FREED_BEFORE_THE_ANSWER);
    }

    /**
     * The engine leaves bytes and answers "no more input"; the application frees the budget and
     * calls {@code inputReady} after that answer was computed but before the connection acts on it.
     * The connection must still resume.
     */
    @Test
    void aResumeThatRacesThePauseIsNotLost() throws Exception {
        runScript(Moment.FREED_AFTER_THE_ANSWER);
    }

    /** The budget is freed by an application thread of its own, at random times. */
    @Test
    void anApplicationThatFreesTheBudgetAtAnyTimeSeesEveryByteInOrder() throws Exception {
        runScript(Moment.FREED_BY_A_READER_THREAD);
    }

    private enum Moment { FREED_BEFORE_THE_ANSWER, FREED_AFTER_THE_ANSWER, FREED_BY_A_READER_THREAD }

    private static void runScript(Moment moment) throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            try (SocketChannel peer = SocketChannel.open(listener.getLocalAddress())) {
                SocketChannel ours = listener.accept();
                ours.configureBlocking(false);
                ScriptedSession session = new ScriptedSession(moment);
                NioConnection conn = new NioConnection(ours, session, EventLoop.acquire(), SmuxConfig.defaults());
                session.driver = conn;
                Thread reader = null;
                if (moment == Moment.FREED_BY_A_READER_THREAD) {
                    reader = new Thread(session::applicationReadsForever, "scripted-application-reader");
                    reader.start();
                }
                conn.schedule();
                Thread sender = new Thread(() -> send(peer), "scripted-peer");
                sender.start();
                try {
                    session.awaitAll();
                } finally {
                    conn.shutdown(false);
                    session.closed.await(10, TimeUnit.SECONDS);
                    sender.join(10_000);
                    if (reader != null) {
                        reader.interrupt();
                        reader.join(10_000);
                    }
                }
                session.check();
                assertTrue(session.pauses > 10, "the script must pause the reader many times, paused " + session.pauses);
            }
        }
    }

    private static void send(SocketChannel peer) {
        ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
        long sent = 0;
        try {
            while (sent < TOTAL) {
                chunk.clear();
                int n = (int) Math.min(chunk.capacity(), TOTAL - sent);
                for (int i = 0; i < n; i++) {
                    chunk.put(pattern(sent + i));
                }
                chunk.flip();
                while (chunk.hasRemaining()) {
                    peer.write(chunk);
                }
                sent += n;
            }
        } catch (IOException e) {
            // the test ended (and closed the connection) early; its assertions say why
        }
    }

    static byte pattern(long i) {
        return (byte) (i * 31 + (i >>> 9));
    }

    /**
     * A session that records what it is fed and plays a version 1 budget. Its methods are called by
     * the loop thread; {@code inputReady} is always called from another thread, as an application
     * read does.
     */
    private static final class ScriptedSession implements SessionLink {
        private final Moment moment;
        private final CountDownLatch all = new CountDownLatch(1);
        final CountDownLatch closed = new CountDownLatch(1);
        private final AtomicReference<String> wrong = new AtomicReference<>();
        volatile NioConnection driver;
        private final Object budgetLock = new Object();
        private int budget = BUDGET;
        private boolean leftBytes;
        private long fed;
        int pauses;

        ScriptedSession(Moment moment) {
            this.moment = moment;
        }

        @Override
        public void onInput(ByteBuffer src) {
            int take;
            synchronized (budgetLock) {
                take = Math.min(budget, src.remaining());
                budget -= take;
            }
            for (int i = 0; i < take; i++) {
                byte b = src.get();
                if (b != pattern(fed) && wrong.get() == null) {
                    wrong.set("byte " + fed + " was " + b + ", expected " + pattern(fed)
                            + ": bytes were fed out of order, twice, or lost");
                    all.countDown();
                }
                fed++;
            }
            leftBytes = src.hasRemaining();
            if (leftBytes) {
                pauses++;
            }
            if (fed == TOTAL) {
                all.countDown();
            }
        }

        @Override
        public boolean wantsInput() {
            boolean answer;
            synchronized (budgetLock) {
                answer = budget > 0;
            }
            if (leftBytes && moment != Moment.FREED_BY_A_READER_THREAD) {
                leftBytes = false;
                if (moment == Moment.FREED_BEFORE_THE_ANSWER) {
                    applicationReadOnAnotherThread();
                    synchronized (budgetLock) {
                        answer = budget > 0;
                    }
                } else {
                    applicationReadOnAnotherThread(); // the answer computed above is now stale
                }
            }
            return answer;
        }

        /** An application read frees the budget, then tells the driver, as the session core does. */
        private void applicationReadOnAnotherThread() {
            Thread app = new Thread(this::freeBudget, "scripted-application-read");
            app.start();
            try {
                app.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }

        private void freeBudget() {
            synchronized (budgetLock) {
                budget = BUDGET;
            }
            driver.inputReady();
        }

        void applicationReadsForever() {
            java.util.Random random = new java.util.Random(13);
            while (!Thread.currentThread().isInterrupted()) {
                java.util.concurrent.locks.LockSupport.parkNanos(random.nextInt(200_000));
                freeBudget();
            }
        }

        void awaitAll() throws InterruptedException {
            if (!all.await(20, TimeUnit.SECONDS)) {
                fail("the connection stalled: " + fed + " of " + TOTAL + " bytes fed after 20 s (paused "
                        + pauses + " times)");
            }
        }

        void check() {
            if (wrong.get() != null) {
                fail(wrong.get());
            }
            assertEquals(TOTAL, fed, "bytes fed");
        }

        @Override
        public void onEof() {
        }

        @Override
        public void onTransportError(IOException e) {
        }

        @Override
        public int pull(ByteBuffer staging) {
            return 0;
        }

        @Override
        public int tryPull(ByteBuffer staging) {
            return 0;
        }

        @Override
        public boolean pullLeftWork() {
            return false;
        }

        @Override
        public void runTimers() {
        }

        @Override
        public long nanosUntilDeadline() {
            return -1;
        }

        @Override
        public boolean wantsTransmit() {
            return false;
        }

        @Override
        public boolean isFlushed() {
            return true;
        }

        @Override
        public void committedBytesAbandoned(long payloadBytes, IOException failure) {
        }

        @Override
        public void connectionClosed() {
            closed.countDown();
        }
    }
}
