package smux.it.faults;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import smux.api.SmuxStream;

/**
 * A byte sequence known at every offset (a random block of a prime length, repeated), so that a receiver can
 * check each byte it gets where it gets it: a gap, a duplicate or a reordering shows at the first wrong offset,
 * and the count received must be a prefix of what the sender committed. Both ends also keep a SHA-256.
 */
final class Pattern {
    /** Prime, and larger than any chunk: a gap or duplicate of a whole number of periods is not plausible. */
    static final int PERIOD = 65_521;
    private final byte[] twice = new byte[2 * PERIOD];

    Pattern(long seed) {
        byte[] block = Faults.pattern(new byte[PERIOD], PERIOD, seed);
        System.arraycopy(block, 0, twice, 0, PERIOD);
        System.arraycopy(block, 0, twice, PERIOD, PERIOD);
    }

    /** Writes the pattern to a stream in chunks of random size, counting exactly what was committed. */
    final class Sender implements Runnable {
        private final SmuxStream stream;
        private final long limit;
        private final boolean closeWrite;
        private final SplittableRandom random;
        private final int maxChunk;
        private final AtomicLong committed = new AtomicLong();
        private final MessageDigest digest = Faults.sha256();
        private volatile IOException failure;
        private volatile boolean done;
        private volatile long endedAtNanos;

        /**
         * @param limit bytes to send, or -1 to send until the stream or session fails
         * @param closeWrite whether to half-close after {@code limit} bytes
         */
        Sender(SmuxStream stream, long limit, boolean closeWrite, long seed, int maxChunk) {
            this.stream = stream;
            this.limit = limit;
            this.closeWrite = closeWrite;
            this.random = new SplittableRandom(seed);
            this.maxChunk = Math.min(maxChunk, PERIOD);
        }

        @Override
        public void run() {
            try {
                while (limit < 0 || committed.get() < limit) {
                    long at = committed.get();
                    int len = 1 + random.nextInt(maxChunk);
                    if (limit >= 0) {
                        len = (int) Math.min(len, limit - at);
                    }
                    int from = (int) (at % PERIOD);
                    ByteBuffer src = ByteBuffer.wrap(twice, from, len);
                    try {
                        stream.write(src);
                    } finally {
                        // the buffer's position stands after the committed bytes, whatever happened
                        int n = src.position() - from;
                        digest.update(twice, from, n);
                        committed.addAndGet(n);
                    }
                }
                if (closeWrite) {
                    stream.closeWrite();
                }
            } catch (IOException e) {
                failure = e;
            } finally {
                endedAtNanos = System.nanoTime();
                done = true;
            }
        }

        int streamId() {
            return stream.id();
        }

        /** @return bytes committed so far (final once {@link #done()}) */
        long committed() {
            return committed.get();
        }

        boolean done() {
            return done;
        }

        IOException failure() {
            return failure;
        }

        long endedAtNanos() {
            return endedAtNanos;
        }

        /** @return the SHA-256 of the committed bytes; call once, after {@link #done()} */
        String sha256() {
            return Faults.hex(digest);
        }
    }

    /**
     * Reads a stream on its own thread and checks every byte against the pattern at its offset; stops at the
     * first wrong byte (recording its offset), at end-of-stream or at an exception (recording which, and when).
     */
    final class Receiver {
        private final SmuxStream stream;
        private final Thread thread;
        private final MessageDigest digest = Faults.sha256();
        private long total;
        private long firstWrongOffset = -1;
        private long firstByteNanos;
        private long lastByteNanos;
        private long markBytes = Long.MAX_VALUE;
        private long markNanos;
        private boolean ended;
        private boolean endOfStream;
        private IOException failure;
        private long endedAtNanos;

        Receiver(SmuxStream stream) {
            this.stream = stream;
            this.thread = new Thread(this::run, "fault-receiver-" + Integer.toUnsignedString(stream.id()));
            this.thread.setDaemon(true);
        }

        /** Records when {@code bytes} in total have arrived ({@link #markNanos()}); call before {@link #start()}. */
        Receiver mark(long bytes) {
            this.markBytes = bytes;
            return this;
        }

        Receiver start() {
            thread.start();
            return this;
        }

        private void run() {
            ByteBuffer buf = ByteBuffer.allocate(32 * 1024);
            try {
                while (true) {
                    buf.clear();
                    int n = stream.read(buf);
                    if (n < 0) {
                        finish(true, null);
                        return;
                    }
                    if (!accept(buf.array(), n)) {
                        finish(false, null);
                        return;
                    }
                }
            } catch (IOException e) {
                finish(false, e);
            }
        }

        private synchronized boolean accept(byte[] data, int n) {
            int from = (int) (total % PERIOD);
            int wrong = Arrays.mismatch(data, 0, n, twice, from, from + n);
            if (wrong >= 0) {
                firstWrongOffset = total + wrong;
                total += wrong;
                notifyAll();
                return false;
            }
            long now = System.nanoTime();
            if (total == 0) {
                firstByteNanos = now;
            }
            lastByteNanos = now;
            digest.update(data, 0, n);
            if (total < markBytes && total + n >= markBytes) {
                markNanos = now;
            }
            total += n;
            notifyAll();
            return true;
        }

        private synchronized void finish(boolean eof, IOException e) {
            ended = true;
            endOfStream = eof;
            failure = e;
            endedAtNanos = System.nanoTime();
            notifyAll();
        }

        synchronized long total() {
            return total;
        }

        int streamId() {
            return stream.id();
        }

        /** @return the offset of the first byte that was not the pattern's, or -1 */
        synchronized long firstWrongOffset() {
            return firstWrongOffset;
        }

        synchronized boolean ended() {
            return ended;
        }

        synchronized boolean endOfStream() {
            return endOfStream;
        }

        synchronized IOException failure() {
            return failure;
        }

        synchronized long endedAtNanos() {
            return endedAtNanos;
        }

        synchronized long firstByteNanos() {
            return firstByteNanos;
        }

        synchronized long lastByteNanos() {
            return lastByteNanos;
        }

        /** @return when the total reached the {@link #mark} */
        synchronized long markNanos() {
            return markNanos;
        }

        /** Waits until {@code bytes} arrived, the reading ended, or {@code millis} passed. @return whether they arrived */
        synchronized boolean awaitTotal(long bytes, long millis) throws InterruptedException {
            long deadline = System.nanoTime() + millis * 1_000_000;
            while (total < bytes && !ended) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                wait(Math.max(1, left / 1_000_000));
            }
            return total >= bytes;
        }

        /** Waits until the reading ended, at most {@code millis}. @return whether it ended */
        synchronized boolean awaitEnd(long millis) throws InterruptedException {
            long deadline = System.nanoTime() + millis * 1_000_000;
            while (!ended) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                wait(Math.max(1, left / 1_000_000));
            }
            return true;
        }

        /** @return the SHA-256 of what arrived; call once, after the reading ended */
        synchronized String sha256() {
            return Faults.hex(digest);
        }

        @Override
        public synchronized String toString() {
            return "stream " + Integer.toUnsignedString(stream.id()) + ": " + total + " bytes"
                    + (firstWrongOffset >= 0 ? ", WRONG BYTE at offset " + firstWrongOffset : "")
                    + (ended ? (endOfStream ? ", end-of-stream" : ", ended by " + failure) : ", reading");
        }
    }
}
