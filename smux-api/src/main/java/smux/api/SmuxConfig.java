package smux.api;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadFactory;

/**
 * The settings of one session: immutable, validated when built, with the defaults of the smux
 * specification. Both ends of a connection must use the same {@link #version()}, or the
 * accepting end takes the version of its peer's first frame ({@link #VERSION_AUTO}); every other
 * setting is local to one end.
 *
 * <pre>{@code
 * SmuxConfig config = SmuxConfig.builder()
 *         .version(2)
 *         .streamWindow(512 * 1024)
 *         .keepAlive(Duration.ofSeconds(10), Duration.ofSeconds(30))
 *         .build();
 * }</pre>
 *
 * <p>Memory: a version 2 session reserves {@code max(streamWindow, 256 KiB)} for each of its
 * first streams (the peer may send that much before it hears from us), while that stays within
 * its {@link #maxSessionBuffer()} (default 64 MiB: 256 streams) and the {@link MemoryBudget} it
 * shares with other sessions (by default one per process, a quarter of the heap) grants it.
 * Streams beyond, up to {@link #maxStreams()}, are admitted on credit: they take memory from the
 * shared budget for what they actually buffer, and when it has none the credit streams that hold
 * the most are shed (their reads and writes throw {@link LimitExceededException}; see
 * {@link SessionStats#streamsShed()} and docs/PROTOCOL.md). A version 1 session has no
 * per-stream window: it stops reading the connection when {@link #maxSessionBuffer()} bytes are
 * buffered (default 4 MiB), as xtaci/smux does, or when the shared budget gives it no more room,
 * so in version 1 an unread stream does stall the others.
 */
public final class SmuxConfig {
    /**
     * The version of an accepting session that takes the version of its peer's first frame (1 or
     * 2): one server port for clients of both versions. Only a server may use it (a client's first
     * frame is what tells the server its version); such a session sends nothing and opens no
     * stream until the peer's first frame has arrived. See docs/PROTOCOL.md, "One port, both versions".
     */
    public static final int VERSION_AUTO = 0;
    /** Version 2 senders start with this guess of the peer's window (xtaci's initialPeerWindow). */
    public static final int INITIAL_PEER_WINDOW = 262_144;
    /** The largest payload one frame can carry (LENGTH is an unsigned 16-bit field). */
    public static final int MAX_FRAME_SIZE = 65_535;
    /** The size of a frame header in bytes. */
    public static final int HEADER_SIZE = 8;
    /** The smallest staging buffer: the seed's 64 KiB connection buffer. */
    public static final int MIN_STAGING_BUFFER = 64 * 1024;
    /**
     * The default {@link #maxSessionBuffer()} of a version 2 session: 64 MiB, reserved up front for
     * the first 256 streams (256 KiB each); the streams beyond, up to {@link #maxStreams()}, are
     * admitted on credit (see docs/PROTOCOL.md). One stream needs only its window to reach full
     * speed.
     */
    public static final long DEFAULT_SESSION_BUFFER = 64L << 20;
    /**
     * The default first window of a stream: 256 KiB, what an xtaci/smux sender assumes before our
     * first window update anyway, so the tuning starts from there and nothing shrinks at once.
     */
    public static final int DEFAULT_INITIAL_WINDOW = 256 * 1024;
    /**
     * The default largest tuned window of a stream: 32 MiB (about 5 Gbit/s over a 50 ms round
     * trip), within the three quarters of the default {@code maxSessionBuffer} that windows may
     * grow into.
     */
    public static final int DEFAULT_MAX_WINDOW = 32 << 20;
    /** The default {@link #maxSessionBuffer()} of a version 1 session: xtaci's MaxReceiveBuffer, 4 MiB. */
    public static final long DEFAULT_SESSION_BUFFER_V1 = 4L << 20;
    /**
     * The default {@link #closeTimeout()}: 10 s without progress. A peer that pauses for a few
     * seconds (a GC pause, a slow disk) and then reads must not make a close drop committed bytes;
     * ten seconds is five times the two-second pause that lost bytes with the old 1 s default,
     * and a third of the default keepalive timeout, so a close still gives up on a peer that has
     * stopped reading long before the session would call it dead (docs/PROTOCOL.md, "Closing").
     */
    public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(10);

    private static final SmuxConfig DEFAULTS = builder().build();

    private final int version;
    private final int streamWindow;
    private final int initialStreamWindow;
    private final boolean windowTuned;
    private final int maxFrameSize;
    private final int stagingBufferSize;
    private final boolean keepAliveEnabled;
    private final Duration keepAliveInterval;
    private final Duration keepAliveTimeout;
    private final int acceptBacklog;
    private final int maxStreams;
    private final long maxSessionBuffer;
    /** What the builder held: 0 when the budget is derived, so that a copy derives it again. */
    private final long maxSessionBufferSetting;
    private final Duration probeTimeout;
    private final Duration closeTimeout;
    private final boolean probePeer;
    private final ThreadFactory threadFactory;
    private final String transport;
    private final MemoryBudget memoryBudget;

    private SmuxConfig(Builder b) {
        this.version = b.version;
        this.streamWindow = b.streamWindow;
        this.initialStreamWindow = b.windowTuned ? b.initialStreamWindow : b.streamWindow;
        this.windowTuned = b.windowTuned;
        this.maxFrameSize = b.maxFrameSize;
        this.stagingBufferSize = b.stagingBufferSize;
        this.keepAliveEnabled = b.keepAliveEnabled;
        this.keepAliveInterval = b.keepAliveInterval;
        this.keepAliveTimeout = b.keepAliveTimeout;
        this.acceptBacklog = b.acceptBacklog;
        this.maxStreams = b.maxStreams;
        this.maxSessionBuffer = b.maxSessionBuffer != 0 ? b.maxSessionBuffer : defaultSessionBuffer(b);
        this.maxSessionBufferSetting = b.maxSessionBuffer;
        this.probeTimeout = b.probeTimeout;
        this.closeTimeout = b.closeTimeout;
        this.probePeer = b.probePeer;
        this.threadFactory = b.threadFactory;
        this.transport = b.transport;
        this.memoryBudget = b.memoryBudget;
    }

    private static long defaultSessionBuffer(Builder b) {
        if (b.version == 1) {
            return DEFAULT_SESSION_BUFFER_V1;
        }
        long reservation = Math.max(b.windowTuned ? b.initialStreamWindow : b.streamWindow, INITIAL_PEER_WINDOW);
        return Math.max(reservation, Math.min(DEFAULT_SESSION_BUFFER, b.maxStreams * reservation));
    }

    /**
     * Returns the configuration with every default.
     *
     * @return the default configuration (version 2, windows tuned from 256 KiB to 32 MiB, ...)
     */
    public static SmuxConfig defaults() {
        return DEFAULTS;
    }

    /**
     * Starts a builder with every default set.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts a builder holding this configuration's values, to derive a changed copy.
     *
     * @return a new builder
     */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.version = version;
        b.streamWindow = streamWindow;
        b.initialStreamWindow = initialStreamWindow;
        b.windowTuned = windowTuned;
        b.maxFrameSize = maxFrameSize;
        b.stagingBufferSize = stagingBufferSize;
        b.keepAliveEnabled = keepAliveEnabled;
        b.keepAliveInterval = keepAliveInterval;
        b.keepAliveTimeout = keepAliveTimeout;
        b.acceptBacklog = acceptBacklog;
        b.maxStreams = maxStreams;
        b.maxSessionBuffer = maxSessionBufferSetting;
        b.probeTimeout = probeTimeout;
        b.closeTimeout = closeTimeout;
        b.probePeer = probePeer;
        b.threadFactory = threadFactory;
        b.transport = transport;
        b.memoryBudget = memoryBudget;
        return b;
    }

    /**
     * Returns the protocol version: 1 or 2 (default 2), which both ends must agree on, or
     * {@link #VERSION_AUTO} (0) for a server that takes the version of its peer's first frame.
     *
     * @return 1, 2 or {@link #VERSION_AUTO}
     */
    public int version() { return version; }

    /** @return whether this is an accepting configuration that takes its version from the peer ({@link #VERSION_AUTO}) */
    public boolean versionAuto() { return version == VERSION_AUTO; }

    /**
     * Returns this configuration with its version settled, as an {@link #versionAuto() auto} session
     * does when its peer's first frame arrives; settings derived from the version (the default
     * {@link #maxSessionBuffer()}) are derived again.
     *
     * @param version 1 or 2
     * @return the configuration for that version (this one, if it already has it)
     * @throws IllegalArgumentException if {@code version} is neither 1 nor 2
     */
    public SmuxConfig withVersion(int version) {
        if (version != 1 && version != 2) {
            throw new IllegalArgumentException("a session's settled version is 1 or 2, got " + version);
        }
        return version == this.version ? this : toBuilder().version(version).build();
    }

    /**
     * Returns the largest receive window a stream advertises (version 2): the fixed window set with
     * {@link Builder#streamWindow}, or the maximum of a tuned one (default: tuned, 256 KiB to 32 MiB).
     *
     * @return bytes
     */
    public int streamWindow() { return streamWindow; }

    /**
     * Returns the window a stream advertises first: the fixed window, or the lower bound of an
     * auto-tuned one ({@link Builder#streamWindowTuned}).
     *
     * @return bytes
     */
    public int initialStreamWindow() { return initialStreamWindow; }

    /**
     * Returns whether each stream tunes its window between {@link #initialStreamWindow()} and
     * {@link #streamWindow()} (version 2): it grows while the window, not the reader, limits the
     * stream, and shrinks while the reader falls behind or memory is tight. See docs/PROTOCOL.md.
     *
     * @return true if windows are auto-tuned, false if fixed
     */
    public boolean windowTuned() { return windowTuned; }

    /** @return the largest payload this side puts in one data frame (default 32768, at most 65535) */
    public int maxFrameSize() { return maxFrameSize; }

    /** @return the size of the connection's staging buffer, into which frames are packed for each socket write */
    public int stagingBufferSize() { return stagingBufferSize; }

    /** @return whether keepalive frames are sent and an idle connection is closed */
    public boolean keepAliveEnabled() { return keepAliveEnabled; }

    /** @return how often a keepalive frame (NOP) is sent (default 10 s) */
    public Duration keepAliveInterval() { return keepAliveInterval; }

    /** @return how long nothing may arrive before the session is declared dead (default 30 s) */
    public Duration keepAliveTimeout() { return keepAliveTimeout; }

    /** @return how many opened streams may wait for {@code accept} before new ones are refused (default 1024) */
    public int acceptBacklog() { return acceptBacklog; }

    /** @return the most streams a session holds at once, both directions together (default 1024) */
    public int maxStreams() { return maxStreams; }

    /**
     * Returns the receive memory the session reserves up front. Version 2: one reservation per open
     * stream ({@code max(streamWindow, 256 KiB)} each) for the first streams; the streams beyond, on
     * credit, take what they buffer from the shared {@link #memoryBudget()} and may be shed. Default
     * {@code maxStreams} reservations, at most 64 MiB ({@link #DEFAULT_SESSION_BUFFER}) but at least
     * one reservation.
     * Version 1: buffered bytes at which the session stops reading the connection; default 4 MiB.
     * {@link #VERSION_AUTO}: the default is derived again for the version the peer's first frame
     * carries (this method returns the version 2 one). The session also draws every reservation from its shared {@link #memoryBudget()}.
     *
     * @return the budget in bytes
     */
    public long maxSessionBuffer() { return maxSessionBuffer; }

    /**
     * Returns the budget the session shares with others for what it buffers: the one given to
     * {@link Builder#memoryBudget}, or else {@link MemoryBudget#processWide()} (resolved when the
     * session starts, so the system property may be set until then).
     *
     * @return the shared budget
     */
    public MemoryBudget memoryBudget() {
        return memoryBudget != null ? memoryBudget : MemoryBudget.processWide();
    }

    /** @return how long the probe ({@code isSmux}) and a ping wait for their answer (default 5 s) */
    public Duration probeTimeout() { return probeTimeout; }

    /**
     * Returns how long a closing session waits for the connection to move before it gives up on
     * its committed bytes (default {@link #DEFAULT_CLOSE_TIMEOUT}, 10 s). It counts from the last
     * byte the connection accepted, not from the start of the close; it also bounds how long a
     * clean close waits for the peer to close its end. See {@link Session#close()}.
     *
     * @return the close timeout
     */
    public Duration closeTimeout() { return closeTimeout; }

    /** @return whether a client session probes its peer before it starts (default false) */
    public boolean probePeer() { return probePeer; }

    /** @return the factory for the threads a transport starts, if one was set */
    public Optional<ThreadFactory> threadFactory() { return Optional.ofNullable(threadFactory); }

    /** @return the transport to use by name ({@code "socket"}, {@code "nio"}), if one was forced */
    public Optional<String> transport() { return Optional.ofNullable(transport); }

    @Override
    public String toString() {
        return "SmuxConfig{version=" + (version == VERSION_AUTO ? "auto" : Integer.toString(version)) + ", streamWindow="
                + (windowTuned ? initialStreamWindow + ".." + streamWindow + " (tuned)" : Integer.toString(streamWindow))
                + ", maxFrameSize=" + maxFrameSize + ", stagingBufferSize=" + stagingBufferSize
                + ", keepAlive=" + (keepAliveEnabled ? keepAliveInterval + "/" + keepAliveTimeout : "off")
                + ", acceptBacklog=" + acceptBacklog + ", maxStreams=" + maxStreams
                + ", maxSessionBuffer=" + maxSessionBuffer
                + ", memoryBudget=" + (memoryBudget == null ? "process-wide" : memoryBudget.capacity())
                + ", probeTimeout=" + probeTimeout
                + ", closeTimeout=" + closeTimeout + ", probePeer=" + probePeer
                + ", transport=" + (transport == null ? "auto" : transport) + '}';
    }

    /** Collects and validates the settings of a {@link SmuxConfig}. Not thread-safe. */
    public static final class Builder {
        private int version = 2;
        private int streamWindow = DEFAULT_MAX_WINDOW;
        private int initialStreamWindow = DEFAULT_INITIAL_WINDOW;
        private boolean windowTuned = true;
        private int maxFrameSize = 32_768;
        private int stagingBufferSize = 256 * 1024;
        private boolean keepAliveEnabled = true;
        private Duration keepAliveInterval = Duration.ofSeconds(10);
        private Duration keepAliveTimeout = Duration.ofSeconds(30);
        private int acceptBacklog = 1024;
        private int maxStreams = 1024;
        private long maxSessionBuffer; // 0: derived in build()
        private Duration probeTimeout = Duration.ofSeconds(5);
        private Duration closeTimeout = DEFAULT_CLOSE_TIMEOUT;
        private boolean probePeer;
        private ThreadFactory threadFactory;
        private String transport;
        private MemoryBudget memoryBudget; // null: the process-wide one

        private Builder() {
        }

        /**
         * Sets the protocol version. There is no negotiation: both ends must use the same one,
         * except that a server may take the version of its peer's first frame
         * ({@link SmuxConfig#VERSION_AUTO}; a client with it fails to start). Only version 2 keeps
         * one unread stream from stalling the others.
         *
         * @param version 1, 2, or {@link SmuxConfig#VERSION_AUTO} for a server
         * @return this builder
         * @throws IllegalArgumentException if {@code version} is none of these
         */
        public Builder version(int version) {
            if (version != 1 && version != 2 && version != VERSION_AUTO) {
                throw new IllegalArgumentException("version must be 1 or 2 (the versions xtaci/smux speaks), or "
                        + "VERSION_AUTO (0) for a server that takes its peer's, got " + version);
            }
            this.version = version;
            return this;
        }

        /**
         * Sets the receive window of each stream (version 2): how many unread bytes the peer
         * may have sent on a stream. Larger windows give more throughput per stream over
         * long round trips (a stream moves at most window / round-trip).
         *
         * @param bytes between 1024 and 1 GiB
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder streamWindow(int bytes) {
            if (bytes < 1024 || bytes > (1 << 30)) {
                throw new IllegalArgumentException("streamWindow must be between 1024 bytes and 1 GiB, got " + bytes);
            }
            this.streamWindow = bytes;
            this.windowTuned = false;
            return this;
        }

        /**
         * Makes each stream tune its receive window (version 2) between {@code initial} and
         * {@code maximum}: it starts at {@code initial}, grows (doubling) while the window, not the
         * reader, is what limits the stream (a round trip measured from window updates and the data
         * they let through), and shrinks back toward {@code initial} while its reader falls behind,
         * or, when memory is tight, while its reader is behind. Every byte of a window is reserved
         * from the session's budgets before it is advertised. Over a long round trip this is what
         * lets one stream fill the link without giving every stream a large fixed window.
         *
         * @param initial the first and the smallest window, at least 1024
         * @param maximum the largest, at least {@code initial}, at most 1 GiB
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder streamWindowTuned(int initial, int maximum) {
            if (initial < 1024 || maximum < initial || maximum > (1 << 30)) {
                throw new IllegalArgumentException("a tuned stream window needs 1024 <= initial <= maximum <= 1 GiB, got initial "
                        + initial + ", maximum " + maximum);
            }
            this.initialStreamWindow = initial;
            this.streamWindow = maximum;
            this.windowTuned = true;
            return this;
        }

        /**
         * Sets the largest payload this side puts into one data frame.
         *
         * @param bytes between 1 and 65535
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder maxFrameSize(int bytes) {
            if (bytes < 1 || bytes > MAX_FRAME_SIZE) {
                throw new IllegalArgumentException("maxFrameSize must be between 1 and 65535 (LENGTH is 16 bits), got " + bytes);
            }
            this.maxFrameSize = bytes;
            return this;
        }

        /**
         * Sets the size of the connection's staging buffer: frames are packed into it and it is
         * written with one socket write. Bytes copied into it are committed: they will be sent
         * unless the connection fails.
         *
         * @param bytes at least 64 KiB and at least {@code maxFrameSize + 8}; at most 64 MiB
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder stagingBufferSize(int bytes) {
            if (bytes < MIN_STAGING_BUFFER || bytes > (64 << 20)) {
                throw new IllegalArgumentException("stagingBufferSize must be between 64 KiB and 64 MiB, got " + bytes);
            }
            this.stagingBufferSize = bytes;
            return this;
        }

        /**
         * Enables keepalive: a NOP frame every {@code interval}; the session closes when nothing
         * at all arrived for {@code timeout}.
         *
         * @param interval how often to send a keepalive, positive
         * @param timeout how long the peer may be silent, longer than {@code interval}
         * @return this builder
         * @throws IllegalArgumentException if a duration is not positive or timeout &lt;= interval
         */
        public Builder keepAlive(Duration interval, Duration timeout) {
            requirePositive("keepAlive interval", interval);
            requirePositive("keepAlive timeout", timeout);
            if (timeout.compareTo(interval) <= 0) {
                throw new IllegalArgumentException("keepAlive timeout (" + timeout + ") must be longer than its interval ("
                        + interval + "), or the session would close between two keepalives");
            }
            this.keepAliveEnabled = true;
            this.keepAliveInterval = interval;
            this.keepAliveTimeout = timeout;
            return this;
        }

        /**
         * Disables keepalive: no NOP frames are sent and a silent peer is never detected.
         *
         * @return this builder
         */
        public Builder keepAliveDisabled() {
            this.keepAliveEnabled = false;
            return this;
        }

        /**
         * Sets how many streams opened by the peer may wait for {@code accept}; beyond it the
         * peer's new streams are refused (answered with FIN) and the session keeps running.
         *
         * @param streams between 1 and 1,000,000
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder acceptBacklog(int streams) {
            if (streams < 1 || streams > 1_000_000) {
                throw new IllegalArgumentException("acceptBacklog must be between 1 and 1000000, got " + streams);
            }
            this.acceptBacklog = streams;
            return this;
        }

        /**
         * Sets the most streams the session holds at once (opened by either side).
         *
         * @param streams between 1 and 1,000,000
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder maxStreams(int streams) {
            if (streams < 1 || streams > 1_000_000) {
                throw new IllegalArgumentException("maxStreams must be between 1 and 1000000, got " + streams);
            }
            this.maxStreams = streams;
            return this;
        }

        /**
         * Sets the session's receive memory budget; see {@link SmuxConfig#maxSessionBuffer()}.
         *
         * @param bytes at least 64 KiB
         * @return this builder
         * @throws IllegalArgumentException if below 64 KiB
         */
        public Builder maxSessionBuffer(long bytes) {
            if (bytes < 64 * 1024) {
                throw new IllegalArgumentException("maxSessionBuffer must be at least 64 KiB, got " + bytes);
            }
            this.maxSessionBuffer = bytes;
            return this;
        }

        /**
         * Shares a memory budget among the sessions configured with it (for example every session
         * of one server), instead of the process-wide one.
         *
         * @param budget the budget
         * @return this builder
         * @throws NullPointerException if {@code budget} is null
         */
        public Builder memoryBudget(MemoryBudget budget) {
            this.memoryBudget = Objects.requireNonNull(budget, "memoryBudget");
            return this;
        }

        /**
         * Sets how long the probe and a ping wait for the peer's answer.
         *
         * @param timeout positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder probeTimeout(Duration timeout) {
            requirePositive("probeTimeout", timeout);
            this.probeTimeout = timeout;
            return this;
        }

        /**
         * Sets how long a closing session waits for the connection to move (accept another byte
         * of its last frames: committed data and the FINs of its streams) before it closes the
         * connection regardless and reports the committed bytes it gave up
         * ({@link AbandonedBytesException}). Counted from the last progress; default
         * {@link #DEFAULT_CLOSE_TIMEOUT}.
         *
         * @param timeout zero or positive
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder closeTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "closeTimeout");
            if (timeout.isNegative()) {
                throw new IllegalArgumentException("closeTimeout must not be negative, got " + timeout);
            }
            if (timeout.compareTo(MAX_DURATION) > 0) {
                throw new IllegalArgumentException("closeTimeout must be at most 365 days, got " + timeout);
            }
            this.closeTimeout = timeout;
            return this;
        }

        /**
         * Makes a client session probe its peer before it starts, and fail if the peer does not
         * answer as this library does. A probed peer may also be pinged.
         *
         * @param probe whether to probe
         * @return this builder
         */
        public Builder probePeer(boolean probe) {
            this.probePeer = probe;
            return this;
        }

        /**
         * Sets the factory of the threads a transport starts (for example virtual threads on
         * Java 21 and later).
         *
         * @param factory the factory
         * @return this builder
         * @throws NullPointerException if {@code factory} is null
         */
        public Builder threadFactory(ThreadFactory factory) {
            this.threadFactory = Objects.requireNonNull(factory, "threadFactory");
            return this;
        }

        /**
         * Forces a transport by name ({@code "socket"} or {@code "nio"}); by default the
         * available transport with the highest priority is used, or the one named by the
         * system property {@code smux.transport}.
         *
         * @param name the provider's name
         * @return this builder
         * @throws IllegalArgumentException if {@code name} is blank
         */
        public Builder transport(String name) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("transport name must not be blank; leave it unset to choose automatically");
            }
            this.transport = name;
            return this;
        }

        /**
         * Validates the settings together and builds the configuration.
         *
         * @return the configuration
         * @throws IllegalArgumentException if settings conflict (the message says which)
         */
        public SmuxConfig build() {
            if (stagingBufferSize < maxFrameSize + HEADER_SIZE) {
                throw new IllegalArgumentException("stagingBufferSize (" + stagingBufferSize
                        + ") must hold at least one whole frame (maxFrameSize + 8 = " + (maxFrameSize + HEADER_SIZE) + ")");
            }
            int firstWindow = windowTuned ? initialStreamWindow : streamWindow;
            if (version != 1 && maxSessionBuffer != 0 && maxSessionBuffer < Math.max(firstWindow, INITIAL_PEER_WINDOW)) {
                throw new IllegalArgumentException("maxSessionBuffer (" + maxSessionBuffer
                        + ") must hold at least one stream's reservation, max(" + (windowTuned ? "initial " : "")
                        + "streamWindow, 262144) = " + Math.max(firstWindow, INITIAL_PEER_WINDOW));
            }
            return new SmuxConfig(this);
        }

        /** The longest duration a setting accepts: far beyond any sensible timeout, far below nanosecond overflow. */
        private static final Duration MAX_DURATION = Duration.ofDays(365);

        private static void requirePositive(String what, Duration d) {
            Objects.requireNonNull(d, what);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive, got " + d);
            }
            if (d.compareTo(MAX_DURATION) > 0) {
                throw new IllegalArgumentException(what + " must be at most 365 days, got " + d);
            }
        }
    }
}
