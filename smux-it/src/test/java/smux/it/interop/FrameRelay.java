package smux.it.interop;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * An in-process TCP relay between a smux client and server that decodes and records every frame in both
 * directions while forwarding the bytes unchanged (half-closes are passed on, so a peer that ends with a
 * TCP half-close still sees the other side's close).
 *
 * <p>What it gives the tests:
 * <ul>
 *   <li>the frame sequence of each direction ({@link #frames}), with a SHA-256 of each data payload when
 *       asked for: the byte-for-byte comparison;</li>
 *   <li>per stream, how many data bytes it has forwarded ({@link #awaitForwarded}): a receiver can wait
 *       until a sender has used its initial window before it reads;</li>
 *   <li>a version 2 window audit ({@link #windowAudit}): every data frame is checked against the
 *       receiver's updates seen so far. A sender may have {@code max(262144, consumed + window)} bytes
 *       out in total: the initial guess until an update arrives, and since the relay sees an update
 *       before the sender does, a frame sent under an older, larger allowance is still legal. Anything
 *       beyond that bound breaks the receiver's window whatever the timing.</li>
 * </ul>
 * Only the first connection through the relay is recorded (later ones are forwarded as well).
 */
final class FrameRelay implements AutoCloseable {
    static final int INITIAL_PEER_WINDOW = 262_144;

    /** A direction: UP is client to server, DOWN is server to client. */
    enum Dir {
        UP, DOWN;

        Dir opposite() {
            return this == UP ? DOWN : UP;
        }
    }

    static final int SYN = 0;
    static final int FIN = 1;
    static final int PSH = 2;
    static final int NOP = 3;
    static final int UPD = 4;

    /**
     * One decoded frame. {@code payload} is the hex of payloads up to 16 bytes; {@code sha256} the digest of a
     * data payload (when hashing); {@code consumed}/{@code window} the fields of an UPD.
     */
    record Frame(int ver, int cmd, int length, long sid, String payload, String sha256, long consumed, long window) {
        String cmdName() {
            switch (cmd) {
                case SYN: return "SYN";
                case FIN: return "FIN";
                case PSH: return "PSH";
                case NOP: return "NOP";
                case UPD: return "UPD";
                case 0x7F: return "VRM";
                default: return "CMD" + cmd;
            }
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder().append("ver=").append(ver).append(' ').append(cmdName())
                    .append(" len=").append(length).append(" sid=").append(sid);
            if (cmd == UPD) {
                sb.append(" consumed=").append(consumed).append(" window=").append(window);
            } else if (sha256 != null) {
                sb.append(" sha256=").append(sha256, 0, 16).append('…');
            } else if (payload != null && !payload.isEmpty()) {
                sb.append(" payload=").append(payload);
            }
            return sb.toString();
        }
    }

    /** The window audit of one sending direction. */
    record WindowAudit(Dir sender, long dataFrames, long maxInflight, long updates, long smallestWindow,
                       long largestWindow, List<String> violations) {
    }

    private final ServerSocket listener;
    private final InetSocketAddress target;
    private final boolean hashPayloads;
    private final List<Socket> sockets = new ArrayList<>();
    private final Object lock = new Object();
    private final Map<Dir, Recorder> recorders = new HashMap<>();
    private int connections;
    private volatile boolean closed;

    private FrameRelay(InetSocketAddress target, boolean hashPayloads) throws IOException {
        this.target = target;
        this.hashPayloads = hashPayloads;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        recorders.put(Dir.UP, new Recorder(Dir.UP));
        recorders.put(Dir.DOWN, new Recorder(Dir.DOWN));
        daemon("frame-relay-accept", this::acceptLoop);
    }

    /** Starts a relay to {@code target}; {@code hashPayloads} adds a SHA-256 per data frame. */
    static FrameRelay start(InetSocketAddress target, boolean hashPayloads) throws IOException {
        return new FrameRelay(target, hashPayloads);
    }

    InetSocketAddress address() {
        return (InetSocketAddress) listener.getLocalSocketAddress();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket in;
            Socket out;
            try {
                in = listener.accept();
            } catch (IOException e) {
                return;
            }
            try {
                out = new Socket(target.getAddress(), target.getPort());
            } catch (IOException e) {
                closeQuietly(in);
                continue;
            }
            boolean record;
            synchronized (lock) {
                sockets.add(in);
                sockets.add(out);
                record = connections++ == 0;
            }
            daemon("frame-relay-up", () -> pump(in, out, record ? recorders.get(Dir.UP) : null));
            daemon("frame-relay-down", () -> pump(out, in, record ? recorders.get(Dir.DOWN) : null));
        }
    }

    private void pump(Socket from, Socket to, Recorder recorder) {
        byte[] buf = new byte[64 * 1024];
        Map<Long, Long> forwarded = new HashMap<>();
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            while (true) {
                int n = in.read(buf);
                if (n < 0) {
                    to.shutdownOutput();
                    break;
                }
                if (recorder != null) {
                    forwarded.clear();
                    synchronized (lock) {
                        recorder.feed(buf, 0, n, forwarded);
                    }
                }
                out.write(buf, 0, n);
                if (recorder != null) {
                    synchronized (lock) {
                        forwarded.forEach((sid, bytes) -> recorder.forwarded.merge(sid, bytes, Long::sum));
                        recorder.framesForwarded = recorder.frames.size();
                        lock.notifyAll();
                    }
                }
            }
        } catch (IOException e) {
            closeQuietly(from);
            closeQuietly(to);
        } finally {
            synchronized (lock) {
                if (recorder != null) {
                    recorder.ended = true;
                }
                lock.notifyAll();
            }
        }
    }

    /** The frames recorded so far in {@code dir}. */
    List<Frame> frames(Dir dir) {
        synchronized (lock) {
            return List.copyOf(recorders.get(dir).frames);
        }
    }

    /** Waits until the relay has forwarded at least {@code bytes} data bytes of stream {@code sid} in {@code dir}. */
    void awaitForwarded(Dir dir, long sid, long bytes, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            Recorder r = recorders.get(dir);
            while (r.forwarded.getOrDefault(sid, 0L) < bytes) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || r.ended) {
                    throw new AssertionError("relay forwarded " + r.forwarded.getOrDefault(sid, 0L) + " of " + bytes
                            + " data bytes on stream " + sid + " " + dir + (r.ended ? " before the connection ended" : " in time"));
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
        }
    }

    /** Waits until the relay has forwarded a frame in {@code dir} that matches {@code filter}, and returns it. */
    Frame awaitFrame(Dir dir, java.util.function.Predicate<Frame> filter, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            Recorder r = recorders.get(dir);
            while (true) {
                for (Frame f : r.frames.subList(0, r.framesForwarded)) {
                    if (filter.test(f)) {
                        return f;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || r.ended) {
                    throw new AssertionError("no such frame " + dir + (r.ended ? " before the connection ended" : " in time")
                            + "; forwarded: " + r.frames.subList(0, r.framesForwarded));
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
        }
    }

    /** Waits until both directions of the recorded connection have ended (each side closed its output). */
    void awaitRecordedConnectionEnd(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (!(recorders.get(Dir.UP).ended && recorders.get(Dir.DOWN).ended)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("the relayed connection did not end within " + timeout.toMillis() + " ms");
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
        }
    }

    /** The window audit of data sent in {@code sender}'s direction, against the updates of the other. */
    WindowAudit windowAudit(Dir sender) {
        synchronized (lock) {
            Recorder r = recorders.get(sender);
            Recorder other = recorders.get(sender.opposite());
            return new WindowAudit(sender, r.dataFrames, r.maxInflight, other.updates, other.smallestWindow,
                    other.largestWindow, List.copyOf(r.violations));
        }
    }

    /** Problems the decoder met (garbage, a frame cut by the end of the connection), per direction. */
    List<String> decodeProblems() {
        synchronized (lock) {
            List<String> all = new ArrayList<>();
            for (Recorder r : recorders.values()) {
                all.addAll(r.problems);
                if (r.ended && r.have != 0) {
                    all.add(r.dir + ": connection ended inside a frame");
                }
            }
            return all;
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(listener);
        synchronized (lock) {
            sockets.forEach(FrameRelay::closeQuietly);
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    private static void daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
    }

    /** Decodes one direction incrementally; all state is guarded by the relay's lock. */
    private final class Recorder {
        final Dir dir;
        final List<Frame> frames = new ArrayList<>();
        /** How many of {@link #frames} have been written on (the rest were decoded from a chunk not yet sent). */
        int framesForwarded;
        final Map<Long, Long> forwarded = new HashMap<>();
        final List<String> problems = new ArrayList<>();
        final List<String> violations = new ArrayList<>();
        /** Data bytes this direction sent per stream (cumulative). */
        final Map<Long, Long> sent = new HashMap<>();
        /** Per stream, the latest consumed + window this direction announced for the other's data. */
        final Map<Long, Long> allowance = new HashMap<>();
        final Map<Long, Long> consumedBy = new HashMap<>();
        long dataFrames;
        long maxInflight;
        long updates;
        long smallestWindow = Long.MAX_VALUE;
        long largestWindow;
        boolean ended;

        final byte[] header = new byte[8];
        int have; // bytes of the current header (0..8), then payload bytes consumed
        boolean inPayload;
        int ver;
        int cmd;
        int length;
        long sid;
        int payloadDone;
        final byte[] small = new byte[16];
        MessageDigest digest;

        Recorder(Dir dir) {
            this.dir = dir;
        }

        void feed(byte[] b, int off, int len, Map<Long, Long> forwardedNow) {
            int end = off + len;
            int i = off;
            while (i < end) {
                if (!inPayload) {
                    int n = Math.min(8 - have, end - i);
                    System.arraycopy(b, i, header, have, n);
                    have += n;
                    i += n;
                    if (have == 8) {
                        ver = header[0] & 0xFF;
                        cmd = header[1] & 0xFF;
                        length = (header[2] & 0xFF) | (header[3] & 0xFF) << 8;
                        sid = (header[4] & 0xFFL) | (header[5] & 0xFFL) << 8 | (header[6] & 0xFFL) << 16
                                | (header[7] & 0xFFL) << 24;
                        payloadDone = 0;
                        digest = cmd == PSH && hashPayloads && length > 0 ? newDigest() : null;
                        if (length == 0) {
                            complete();
                        } else {
                            inPayload = true;
                        }
                    }
                } else {
                    int n = Math.min(length - payloadDone, end - i);
                    if (payloadDone < small.length) {
                        System.arraycopy(b, i, small, payloadDone, Math.min(n, small.length - payloadDone));
                    }
                    if (digest != null) {
                        digest.update(b, i, n);
                    }
                    if (cmd == PSH) {
                        forwardedNow.merge(sid, (long) n, Long::sum);
                    }
                    payloadDone += n;
                    i += n;
                    if (payloadDone == length) {
                        complete();
                    }
                }
            }
        }

        private void complete() {
            inPayload = false;
            have = 0;
            String payloadHex = length <= small.length ? HexFormat.of().formatHex(small, 0, length) : null;
            String sha = digest != null ? HexFormat.of().formatHex(digest.digest()) : null;
            long consumed = -1;
            long window = -1;
            if (cmd == UPD && length == 8) {
                consumed = le32(small, 0);
                window = le32(small, 4);
                onUpdate(consumed, window);
            } else if (cmd == PSH && length > 0) {
                onData(length);
            } else if (cmd > UPD && cmd != 0x7F) {
                problems.add(dir + ": unknown command " + cmd + " on stream " + sid);
            }
            frames.add(new Frame(ver, cmd, length, sid, payloadHex, sha, consumed, window));
        }

        private void onUpdate(long consumed, long window) {
            updates++;
            smallestWindow = Math.min(smallestWindow, window);
            largestWindow = Math.max(largestWindow, window);
            allowance.merge(sid, consumed + window, Math::max);
            consumedBy.put(sid, consumed);
        }

        private void onData(int n) {
            dataFrames++;
            long total = sent.merge(sid, (long) n, Long::sum);
            Recorder receiver = recorders.get(dir.opposite());
            long allowed = Math.max(INITIAL_PEER_WINDOW, receiver.allowance.getOrDefault(sid, 0L));
            if (total > allowed && violations.size() < 20) {
                violations.add("stream " + sid + ": " + total + " bytes sent, receiver allowed " + allowed
                        + " (last consumed " + receiver.consumedBy.getOrDefault(sid, 0L) + ")");
            }
            maxInflight = Math.max(maxInflight, total - receiver.consumedBy.getOrDefault(sid, 0L));
        }

        private MessageDigest newDigest() {
            try {
                return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private static long le32(byte[] b, int off) {
        return (b[off] & 0xFFL) | (b[off + 1] & 0xFFL) << 8 | (b[off + 2] & 0xFFL) << 16 | (b[off + 3] & 0xFFL) << 24;
    }
}
