package smux.it.faults;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import smux.api.SmuxStream;

/**
 * Reads one stream continuously on its own thread, as an application that always reads would, and keeps
 * what arrived until the test takes it. The test can wait for a number of bytes without sleeping, take
 * them in order to compare with what was sent, and see how the reading ended (end-of-stream, or which
 * exception, and when).
 */
final class StreamLog {
    private final SmuxStream stream;
    private final Thread reader;
    private byte[] buffer = new byte[64 * 1024];
    private int start;
    private int end;
    private long total;
    private boolean ended;
    private IOException failure;
    private long endedAtNanos;

    private StreamLog(SmuxStream stream) {
        this.stream = stream;
        this.reader = new Thread(this::readLoop, "fault-log-" + Integer.toUnsignedString(stream.id()));
        this.reader.setDaemon(true);
    }

    /** Starts reading {@code stream} now. */
    static StreamLog start(SmuxStream stream) {
        StreamLog log = new StreamLog(stream);
        log.reader.start();
        return log;
    }

    SmuxStream stream() {
        return stream;
    }

    private void readLoop() {
        ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
        try {
            while (true) {
                chunk.clear();
                int n = stream.read(chunk);
                if (n < 0) {
                    finish(null);
                    return;
                }
                append(chunk.array(), n);
            }
        } catch (IOException e) {
            finish(e);
        }
    }

    private synchronized void append(byte[] data, int n) {
        if (end + n > buffer.length) {
            int held = end - start;
            byte[] target = held + n > buffer.length ? new byte[Math.max(buffer.length * 2, held + n)] : buffer;
            System.arraycopy(buffer, start, target, 0, held);
            buffer = target;
            start = 0;
            end = held;
        }
        System.arraycopy(data, 0, buffer, end, n);
        end += n;
        total += n;
        notifyAll();
    }

    private synchronized void finish(IOException e) {
        ended = true;
        failure = e;
        endedAtNanos = System.nanoTime();
        notifyAll();
    }

    /** @return bytes received and not yet taken */
    synchronized int available() {
        return end - start;
    }

    /** @return bytes received since the start */
    synchronized long total() {
        return total;
    }

    /** @return whether the reading ended (end-of-stream or an exception) */
    synchronized boolean ended() {
        return ended;
    }

    /** @return the exception that ended the reading, or null (still reading, or end-of-stream) */
    synchronized IOException failure() {
        return failure;
    }

    /** @return {@link System#nanoTime()} when the reading ended; meaningful once {@link #ended()} */
    synchronized long endedAtNanos() {
        return endedAtNanos;
    }

    /**
     * Waits until at least {@code bytes} are available (not yet taken), the reading ended, or
     * {@code millis} passed. @return whether that many are available
     */
    synchronized boolean awaitAvailable(int bytes, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (end - start < bytes && !ended) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return end - start >= bytes;
    }

    /**
     * Waits {@code millis} for more than {@code bytes} to become available. @return true if more arrived
     * (the caller expected none), false if the count stayed at or below {@code bytes} the whole time
     */
    synchronized boolean moreThanWithin(int bytes, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (end - start <= bytes) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return true;
    }

    /** Waits until the reading ends, at most {@code millis}. @return whether it ended */
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

    /** Removes and returns the first {@code n} available bytes (fewer if fewer are there). */
    synchronized byte[] take(int n) {
        int count = Math.min(n, end - start);
        byte[] out = Arrays.copyOfRange(buffer, start, start + count);
        start += count;
        if (start == end) {
            start = 0;
            end = 0;
        }
        return out;
    }

    /** Removes and returns everything available. */
    synchronized byte[] takeAll() {
        return take(end - start);
    }
}
