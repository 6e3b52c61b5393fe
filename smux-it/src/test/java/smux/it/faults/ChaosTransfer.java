package smux.it.faults;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import smux.api.SmuxStream;

/**
 * One stream of a {@link ChaosEpisode}, carrying data both ways: each side writes its bytes in chunks, each
 * write with a random timeout, retrying after a {@link SocketTimeoutException} from exactly where the buffer's
 * position (which must equal {@code bytesTransferred}) says the committed bytes end; then it half-closes. Each
 * side also reads the other's bytes to end-of-stream, checking every byte at its offset. Once both are done,
 * the side closes the stream.
 *
 * <p>How much each side sends, and its bytes, follow from the episode's seed and the stream id alone, so the
 * acceptor needs no message from the opener to know what to send and what to expect.
 */
final class ChaosTransfer {
    private static final int MAX_CHUNK = 128 * 1024;
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

    final long id;
    /** [0]: opener to acceptor, [1]: acceptor to opener. */
    private final long[] sizes = new long[2];
    private final SeededBytes[] contents = new SeededBytes[2];
    private final long seed;
    private volatile Half opener;
    private volatile Half acceptor;

    ChaosTransfer(long episodeSeed, long id, long maxBytes) {
        this.id = id;
        this.seed = episodeSeed * 1_000_003L + id;
        SplittableRandom r = new SplittableRandom(seed);
        for (int d = 0; d < 2; d++) {
            sizes[d] = r.nextInt(8) == 0 ? r.nextInt(16) : logUniform(r, maxBytes);
            contents[d] = new SeededBytes(r.nextLong());
        }
    }

    /** Starts the opener's side ({@code opened}: this side opened the stream) on {@code pool}. */
    Half start(SmuxStream stream, boolean opened, ExecutorService pool, FaultLedger ledger) {
        int out = opened ? 0 : 1;
        Half h = new Half(stream, sizes[out], contents[out], sizes[1 - out], contents[1 - out],
                new SplittableRandom(seed ^ (opened ? 0x5DEECE66DL : 0xB5L)), ledger);
        if (opened) {
            opener = h;
        } else {
            acceptor = h;
        }
        pool.execute(h::write);
        pool.execute(h::read);
        return h;
    }

    boolean finished() {
        Half o = opener;
        Half a = acceptor;
        return (o == null || o.finished()) && (a == null || a.finished());
    }

    /** Waits until both sides that started are done. @return whether they are */
    boolean awaitFinished(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        for (Half h : new Half[] {opener, acceptor}) {
            if (h != null && !h.done.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Books the stream once both sides are done (or never started): what each direction committed and
     * delivered, and whether anything was lost, duplicated or corrupted. A direction whose reader reached
     * end-of-stream must have delivered exactly what its writer committed; any other may have delivered only a
     * prefix of it (the connection failed) and never more.
     */
    void account(FaultLedger ledger, String where) {
        ledger.streams.increment();
        boolean complete = opener != null && acceptor != null;
        for (int d = 0; d < 2; d++) {
            Half from = d == 0 ? opener : acceptor;
            Half to = d == 0 ? acceptor : opener;
            long committed = from == null ? 0 : from.committed;
            long delivered = to == null ? 0 : to.received;
            ledger.bytesCommitted.add(committed);
            ledger.bytesDelivered.add(delivered);
            String dir = where + " stream " + id + (d == 0 ? " opener->acceptor" : " acceptor->opener");
            if (to != null && to.firstWrong >= 0) {
                ledger.corrupted.increment();
                ledger.integrityAnomaly(dir + ": byte at offset " + to.firstWrong + " is not the one sent");
            }
            boolean eof = to != null && to.endOfStream;
            if (eof && (from == null || !from.writeCompleted)) {
                ledger.anomaly(dir + ": end-of-stream although the writer did not finish (" + (from == null ? "no writer"
                        : from.committed + " committed, " + from.writeFailure) + ")");
            }
            if (eof && delivered < committed) {
                ledger.lost.add(committed - delivered);
                ledger.integrityAnomaly(dir + ": end-of-stream after " + delivered + " of " + committed + " committed bytes");
            }
            if (delivered > committed) {
                ledger.duplicated.add(delivered - committed);
                ledger.integrityAnomaly(dir + ": " + delivered + " bytes arrived, " + committed + " were committed");
            }
            complete &= eof && from != null && from.writeCompleted && committed == sizes[d];
        }
        if (complete) {
            ledger.completed.increment();
            ledger.bytesOnCompletedStreams.add(opener.received + acceptor.received);
        }
    }

    String state() {
        return "stream " + id + " opener " + (opener == null ? "-" : opener.state()) + " / acceptor "
                + (acceptor == null ? "-" : acceptor.state());
    }

    private static long logUniform(SplittableRandom r, long max) {
        return (long) Math.floor(Math.exp(r.nextDouble() * Math.log(max + 1.0)));
    }

    /** One side: a writer and a reader on the same stream; the stream is closed when both are done. */
    static final class Half {
        private final SmuxStream stream;
        private final long toSend;
        private final SeededBytes out;
        private final long toReceive;
        private final SeededBytes in;
        private final SplittableRandom random;
        private final FaultLedger ledger;
        private final CountDownLatch done = new CountDownLatch(2);
        volatile long committed;
        volatile boolean writeCompleted;
        volatile Throwable writeFailure;
        volatile long received;
        volatile boolean endOfStream;
        volatile long firstWrong = -1;
        volatile Throwable readFailure;

        Half(SmuxStream stream, long toSend, SeededBytes out, long toReceive, SeededBytes in, SplittableRandom random,
             FaultLedger ledger) {
            this.stream = stream;
            this.toSend = toSend;
            this.out = out;
            this.toReceive = toReceive;
            this.in = in;
            this.random = random;
            this.ledger = ledger;
        }

        boolean finished() {
            return done.getCount() == 0;
        }

        private void write() {
            byte[] chunk = new byte[(int) Math.min(MAX_CHUNK, Math.max(1, toSend))];
            try {
                while (committed < toSend) {
                    int len = (int) Math.min(1 + random.nextInt(chunk.length), toSend - committed);
                    out.fill(committed, chunk, 0, len);
                    ByteBuffer b = ByteBuffer.wrap(chunk, 0, len);
                    while (b.hasRemaining()) {
                        stream.setWriteTimeout(Duration.ofMillis(20 + random.nextInt(480)));
                        int before = b.position();
                        try {
                            stream.write(b);
                        } catch (SocketTimeoutException e) {
                            int moved = b.position() - before;
                            ledger.writeTimeouts.increment();
                            if (moved > 0) {
                                ledger.partialTimeouts.increment();
                            }
                            if (e.bytesTransferred != moved) {
                                ledger.anomaly("stream " + Integer.toUnsignedString(stream.id()) + ": write timed out with"
                                        + " bytesTransferred " + e.bytesTransferred + " but the buffer moved " + moved);
                            }
                            if (e.getMessage() == null || e.getMessage().isBlank()) {
                                ledger.failure("write", e);
                            }
                            ledger.retriedBytes.add(b.remaining());
                        } finally {
                            committed += b.position() - before;
                        }
                    }
                }
                stream.closeWrite();
                writeCompleted = true;
            } catch (IOException | RuntimeException | Error e) {
                writeFailure = e;
                ledger.failure(committed < toSend ? "write" : "closeWrite", e);
            } finally {
                finish();
            }
        }

        private void read() {
            ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
            byte[] scratch = new byte[buf.capacity()];
            try {
                stream.setReadTimeout(READ_TIMEOUT);
                while (true) {
                    buf.clear();
                    int n = stream.read(buf);
                    if (n < 0) {
                        endOfStream = true;
                        return;
                    }
                    if (firstWrong < 0) {
                        int bad = received + n > toReceive ? -2 : in.firstMismatch(received, buf.array(), n, scratch);
                        if (bad >= 0) {
                            firstWrong = received + bad;
                        } else if (bad == -2) {
                            firstWrong = toReceive; // more than the writer will ever send
                        }
                    }
                    received += n;
                }
            } catch (IOException | RuntimeException | Error e) {
                readFailure = e;
                ledger.failure("read", e);
            } finally {
                finish();
            }
        }

        private void finish() {
            done.countDown();
            if (done.getCount() == 0) {
                stream.close();
            }
        }

        String state() {
            return "sent " + committed + "/" + toSend + (writeCompleted ? " +FIN" : "")
                    + (writeFailure != null ? " (" + writeFailure + ")" : "")
                    + ", received " + received + "/" + toReceive + (endOfStream ? " +EOF" : "")
                    + (readFailure != null ? " (" + readFailure + ")" : "");
        }
    }
}
