package smux.api;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.ThreadFactory;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The settings object: spec defaults, validation with messages that say what is allowed, copies. */
class SmuxConfigTest {
    private static final int KIB = 1024;
    private static final long MIB = 1024L * 1024;

    // ------------------------------------------------------------------ defaults (SPEC section 3)

    @Test
    void defaultsAreTheSpecDefaults() {
        SmuxConfig c = SmuxConfig.defaults();
        assertAll(
                () -> assertEquals(2, c.version()),
                () -> assertEquals(32 * MIB, c.streamWindow(), "tuned windows, up to 32 MiB"),
                () -> assertEquals(256 * KIB, c.initialStreamWindow(), "from 256 KiB"),
                () -> assertTrue(c.windowTuned()),
                () -> assertEquals(32_768, c.maxFrameSize()),
                () -> assertTrue(c.keepAliveEnabled()),
                () -> assertEquals(Duration.ofSeconds(10), c.keepAliveInterval()),
                () -> assertEquals(Duration.ofSeconds(30), c.keepAliveTimeout()),
                () -> assertEquals(1024, c.acceptBacklog()),
                () -> assertEquals(1024, c.maxStreams()),
                () -> assertTrue(c.stagingBufferSize() >= SmuxConfig.MIN_STAGING_BUFFER,
                        "the staging buffer is at least the seed's 64 KiB"),
                () -> assertEquals(Duration.ofSeconds(5), c.probeTimeout()),
                () -> assertEquals(Duration.ofSeconds(10), c.closeTimeout()),
                () -> assertFalse(c.probePeer()),
                () -> assertTrue(c.threadFactory().isEmpty()),
                () -> assertTrue(c.transport().isEmpty()));
    }

    @Test
    void builderStartsFromTheDefaults() {
        assertSameSettings(SmuxConfig.defaults(), SmuxConfig.builder().build());
    }

    @Test
    void wireConstantsMatchTheProtocol() {
        assertEquals(262_144, SmuxConfig.INITIAL_PEER_WINDOW);
        assertEquals(65_535, SmuxConfig.MAX_FRAME_SIZE);
        assertEquals(8, SmuxConfig.HEADER_SIZE);
        assertEquals(64 * KIB, SmuxConfig.MIN_STAGING_BUFFER);
    }

    @Test
    void version2SessionBufferIsMaxStreamsReservationsOfTheWindowUpTo64MiB() {
        assertEquals(64 * MIB, SmuxConfig.defaults().maxSessionBuffer(), "128 streams at the default window, not 1024");
        assertEquals(SmuxConfig.DEFAULT_SESSION_BUFFER, SmuxConfig.defaults().maxSessionBuffer());
        assertEquals(10L * 1024 * KIB,
                SmuxConfig.builder().maxStreams(10).streamWindow(1024 * KIB).build().maxSessionBuffer());
        assertEquals(256 * MIB, SmuxConfig.builder().streamWindow(256 << 20).build().maxSessionBuffer(),
                "at least one stream's reservation, even above the default");
    }

    @Test
    void theSharedMemoryBudgetIsTheProcessWideOneUnlessSet() {
        assertSame(MemoryBudget.processWide(), SmuxConfig.defaults().memoryBudget());
        MemoryBudget mine = MemoryBudget.of(8 * MIB);
        SmuxConfig c = SmuxConfig.builder().memoryBudget(mine).build();
        assertSame(mine, c.memoryBudget());
        assertSame(mine, c.toBuilder().build().memoryBudget(), "a copy keeps the budget");
        assertThrows(NullPointerException.class, () -> SmuxConfig.builder().memoryBudget(null));
    }

    @Test
    void version2ReservationIsNeverBelowTheInitialPeerWindow() {
        // a Go sender may send 256 KiB before our first UPD, whatever window we advertise
        SmuxConfig c = SmuxConfig.builder().maxStreams(10).streamWindow(64 * KIB).build();
        assertEquals(10L * 262_144, c.maxSessionBuffer());
    }

    @Test
    void version1SessionBufferIsXtacisFourMebibytes() {
        SmuxConfig c = SmuxConfig.builder().version(1).build();
        assertEquals(4 * MIB, c.maxSessionBuffer());
        assertEquals(4 * MIB, SmuxConfig.builder().version(1).maxStreams(3).streamWindow(2048).build().maxSessionBuffer(),
                "version 1 has no per-stream window: the budget does not depend on it");
    }

    @Test
    void explicitSessionBufferWins() {
        assertEquals(600 * KIB, SmuxConfig.builder().maxSessionBuffer(600 * KIB).build().maxSessionBuffer());
        assertEquals(64 * KIB, SmuxConfig.builder().version(1).maxSessionBuffer(64 * KIB).build().maxSessionBuffer());
    }

    // ------------------------------------------------------------------ one setting at a time

    @ParameterizedTest
    @ValueSource(ints = {Integer.MIN_VALUE, -1, 3, 255})
    void versionOtherThanOneOrTwoOrAutoIsRejected(int version) {
        assertRejected(b -> b.version(version), "version must be 1 or 2", String.valueOf(version));
    }

    @Test
    void versionAutoIsZeroAndSaysSo() {
        SmuxConfig auto = SmuxConfig.builder().version(SmuxConfig.VERSION_AUTO).build();
        assertEquals(0, SmuxConfig.VERSION_AUTO);
        assertEquals(SmuxConfig.VERSION_AUTO, auto.version());
        assertTrue(auto.versionAuto());
        assertEquals(2, auto.withVersion(2).version());
        assertEquals(SmuxConfig.DEFAULT_SESSION_BUFFER_V1, auto.withVersion(1).maxSessionBuffer());
    }

    @Test
    void versionOneAndTwoAreAccepted() {
        assertEquals(1, SmuxConfig.builder().version(1).build().version());
        assertEquals(2, SmuxConfig.builder().version(1).version(2).build().version());
    }

    @ParameterizedTest
    @ValueSource(ints = {Integer.MIN_VALUE, 0, 1023, (1 << 30) + 1, Integer.MAX_VALUE})
    void streamWindowOutOfRangeIsRejected(int bytes) {
        assertRejected(b -> b.streamWindow(bytes), "streamWindow must be between 1024 bytes and 1 GiB", String.valueOf(bytes));
    }

    @Test
    void streamWindowBoundsAreAccepted() {
        assertEquals(1024, SmuxConfig.builder().streamWindow(1024).build().streamWindow());
        assertEquals(1 << 30, SmuxConfig.builder().streamWindow(1 << 30).build().streamWindow());
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 0, 65_536, Integer.MAX_VALUE})
    void maxFrameSizeOutOfRangeIsRejected(int bytes) {
        assertRejected(b -> b.maxFrameSize(bytes), "maxFrameSize must be between 1 and 65535", String.valueOf(bytes));
    }

    @Test
    void maxFrameSizeBoundsAreAccepted() {
        assertEquals(1, SmuxConfig.builder().maxFrameSize(1).build().maxFrameSize());
        assertEquals(65_535, SmuxConfig.builder().maxFrameSize(65_535).build().maxFrameSize());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 64 * 1024 - 1, (64 << 20) + 1})
    void stagingBufferOutOfRangeIsRejected(int bytes) {
        assertRejected(b -> b.stagingBufferSize(bytes), "stagingBufferSize must be between 64 KiB and 64 MiB",
                String.valueOf(bytes));
    }

    @Test
    void keepAliveDurationsMustBePositive() {
        Duration s = Duration.ofSeconds(1);
        assertRejected(b -> b.keepAlive(Duration.ZERO, s), "keepAlive interval must be positive", "PT0S");
        assertRejected(b -> b.keepAlive(Duration.ofMillis(-5), s), "keepAlive interval must be positive", "PT-0.005S");
        assertRejected(b -> b.keepAlive(s, Duration.ZERO), "keepAlive timeout must be positive", "PT0S");
    }

    @Test
    void keepAliveTimeoutMustBeLongerThanTheInterval() {
        IllegalArgumentException e = assertRejected(b -> b.keepAlive(Duration.ofSeconds(10), Duration.ofSeconds(10)),
                "must be longer than its interval");
        assertTrue(e.getMessage().contains("close between two keepalives"), "the message says why: " + e.getMessage());
        assertRejected(b -> b.keepAlive(Duration.ofSeconds(10), Duration.ofSeconds(5)), "must be longer than its interval");
    }

    @Test
    void keepAliveNullsAreRejectedWithTheirName() {
        NullPointerException e = assertThrows(NullPointerException.class,
                () -> SmuxConfig.builder().keepAlive(null, Duration.ofSeconds(1)));
        assertTrue(e.getMessage().contains("interval"), e.getMessage());
        e = assertThrows(NullPointerException.class, () -> SmuxConfig.builder().keepAlive(Duration.ofSeconds(1), null));
        assertTrue(e.getMessage().contains("timeout"), e.getMessage());
    }

    @Test
    void keepAliveCanBeDisabledAndEnabledAgain() {
        SmuxConfig off = SmuxConfig.builder().keepAliveDisabled().build();
        assertFalse(off.keepAliveEnabled());
        assertTrue(off.toString().contains("keepAlive=off"), off.toString());
        SmuxConfig on = off.toBuilder().keepAlive(Duration.ofMillis(100), Duration.ofMillis(300)).build();
        assertTrue(on.keepAliveEnabled());
        assertEquals(Duration.ofMillis(100), on.keepAliveInterval());
        assertEquals(Duration.ofMillis(300), on.keepAliveTimeout());
    }

    @ParameterizedTest
    @ValueSource(ints = {Integer.MIN_VALUE, 0, 1_000_001})
    void acceptBacklogOutOfRangeIsRejected(int streams) {
        assertRejected(b -> b.acceptBacklog(streams), "acceptBacklog must be between 1 and 1000000", String.valueOf(streams));
    }

    @ParameterizedTest
    @ValueSource(ints = {Integer.MIN_VALUE, 0, 1_000_001})
    void maxStreamsOutOfRangeIsRejected(int streams) {
        assertRejected(b -> b.maxStreams(streams), "maxStreams must be between 1 and 1000000", String.valueOf(streams));
    }

    @ParameterizedTest
    @ValueSource(longs = {Long.MIN_VALUE, -1, 0, 64 * 1024 - 1})
    void sessionBufferBelow64KiBIsRejected(long bytes) {
        assertRejected(b -> b.maxSessionBuffer(bytes), "maxSessionBuffer must be at least 64 KiB", String.valueOf(bytes));
    }

    @Test
    void probeTimeoutMustBePositive() {
        assertRejected(b -> b.probeTimeout(Duration.ZERO), "probeTimeout must be positive", "PT0S");
        assertRejected(b -> b.probeTimeout(Duration.ofSeconds(-1)), "probeTimeout must be positive", "PT-1S");
        assertThrows(NullPointerException.class, () -> SmuxConfig.builder().probeTimeout(null));
    }

    @Test
    void closeTimeoutMayBeZeroButNotNegative() {
        assertEquals(Duration.ZERO, SmuxConfig.builder().closeTimeout(Duration.ZERO).build().closeTimeout());
        assertRejected(b -> b.closeTimeout(Duration.ofMillis(-1)), "closeTimeout must not be negative", "PT-0.001S");
        assertThrows(NullPointerException.class, () -> SmuxConfig.builder().closeTimeout(null));
    }

    @Test
    void blankTransportNameIsRejectedWithTheAlternative() {
        for (String name : new String[] {null, "", "   ", "\t"}) {
            assertRejected(b -> b.transport(name), "transport name must not be blank", "leave it unset");
        }
        assertEquals("nio", SmuxConfig.builder().transport("nio").build().transport().orElseThrow());
    }

    @Test
    void threadFactoryMustNotBeNull() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> SmuxConfig.builder().threadFactory(null));
        assertTrue(e.getMessage().contains("threadFactory"), e.getMessage());
    }

    @Test
    void aRejectedValueLeavesTheBuilderUnchanged() {
        SmuxConfig.Builder b = SmuxConfig.builder().version(1).maxFrameSize(1000);
        assertThrows(IllegalArgumentException.class, () -> b.version(7));
        assertThrows(IllegalArgumentException.class, () -> b.maxFrameSize(70_000));
        SmuxConfig c = b.build();
        assertEquals(1, c.version());
        assertEquals(1000, c.maxFrameSize());
    }

    // ------------------------------------------------------------------ settings together, in build()

    @Test
    void stagingBufferMustHoldOneWholeFrame() {
        SmuxConfig.Builder b = SmuxConfig.builder().stagingBufferSize(64 * KIB).maxFrameSize(65_535);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::build);
        assertTrue(e.getMessage().contains("stagingBufferSize (65536) must hold at least one whole frame"), e.getMessage());
        assertTrue(e.getMessage().contains("65543"), "the message gives the size needed: " + e.getMessage());
    }

    @Test
    void stagingBufferCheckDoesNotDependOnTheOrderOfCalls() {
        // maxFrameSize first, then a too small staging buffer: still caught, at build()
        SmuxConfig.Builder b = SmuxConfig.builder().maxFrameSize(65_535).stagingBufferSize(64 * KIB);
        assertThrows(IllegalArgumentException.class, b::build);
        // the largest frame that fits exactly: 65528 + 8 = 65536
        assertEquals(65_528, SmuxConfig.builder().stagingBufferSize(64 * KIB).maxFrameSize(65_528).build().maxFrameSize());
    }

    @Test
    void version2SessionBufferMustHoldOneStreamReservation() {
        SmuxConfig.Builder small = SmuxConfig.builder().maxSessionBuffer(64 * KIB);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, small::build);
        assertTrue(e.getMessage().contains("must hold at least one stream's reservation"), e.getMessage());
        assertTrue(e.getMessage().contains("262144"), "the message gives the reservation: " + e.getMessage());

        SmuxConfig.Builder belowWindow = SmuxConfig.builder().streamWindow(1 << 20).maxSessionBuffer(1 << 19);
        assertThrows(IllegalArgumentException.class, belowWindow::build);

        // exactly one reservation is enough; and version 1 has no reservations at all
        assertEquals(262_144, SmuxConfig.builder().streamWindow(1024).maxSessionBuffer(262_144).build().maxSessionBuffer());
        assertEquals(64 * KIB, SmuxConfig.builder().version(1).maxSessionBuffer(64 * KIB).build().maxSessionBuffer());
    }

    // ------------------------------------------------------------------ copies

    @Test
    void toBuilderRoundTripKeepsEverySetting() {
        ThreadFactory factory = Thread::new;
        SmuxConfig original = SmuxConfig.builder()
                .version(1)
                .streamWindow(128 * KIB)
                .maxFrameSize(16_384)
                .stagingBufferSize(128 * KIB)
                .keepAlive(Duration.ofMillis(1500), Duration.ofSeconds(7))
                .acceptBacklog(17)
                .maxStreams(33)
                .maxSessionBuffer(3 * MIB)
                .probeTimeout(Duration.ofMillis(250))
                .closeTimeout(Duration.ofMillis(40))
                .probePeer(true)
                .threadFactory(factory)
                .transport("nio")
                .build();
        SmuxConfig copy = original.toBuilder().build();
        assertSameSettings(original, copy);
        assertSame(factory, copy.threadFactory().orElseThrow());
        assertEquals(original.toString(), copy.toString());
    }

    @Test
    void toBuilderCopyIsIndependentOfTheOriginal() {
        SmuxConfig original = SmuxConfig.defaults();
        SmuxConfig changed = original.toBuilder().maxFrameSize(1000).probePeer(true).build();
        assertEquals(1000, changed.maxFrameSize());
        assertTrue(changed.probePeer());
        assertEquals(32_768, original.maxFrameSize());
        assertFalse(original.probePeer());
    }

    @Test
    void toBuilderKeepsADisabledKeepAlive() {
        SmuxConfig off = SmuxConfig.builder().keepAliveDisabled().build();
        assertFalse(off.toBuilder().build().keepAliveEnabled());
    }

    @Test
    void derivedSessionBufferIsDerivedAgainInACopy() {
        // The default budget follows version, maxStreams and streamWindow: a copy that changes
        // them must not keep the old derived number as if it had been set by hand.
        SmuxConfig v1 = SmuxConfig.defaults().toBuilder().version(1).build();
        assertEquals(4 * MIB, v1.maxSessionBuffer());

        SmuxConfig few = SmuxConfig.defaults().toBuilder().maxStreams(10).build();
        assertEquals(10L * 256 * KIB, few.maxSessionBuffer(), "ten reservations of the first window");

        SmuxConfig hugeWindow = SmuxConfig.defaults().toBuilder().streamWindow(1 << 30).maxStreams(2).build();
        assertEquals(1L << 30, hugeWindow.maxSessionBuffer(), "one reservation, above the 64 MiB cap");
    }

    @Test
    void explicitSessionBufferSurvivesACopy() {
        SmuxConfig set = SmuxConfig.builder().maxSessionBuffer(5 * MIB).build();
        assertEquals(5 * MIB, set.toBuilder().maxStreams(3).build().maxSessionBuffer());
        assertEquals(5 * MIB, set.toBuilder().version(1).build().maxSessionBuffer());
    }

    @Test
    void aTunedWindowHasBoundsAndAFixedOneReplacesIt() {
        SmuxConfig t = SmuxConfig.builder().streamWindowTuned(64 * KIB, 8 * (int) MIB).build();
        assertTrue(t.windowTuned());
        assertEquals(64 * KIB, t.initialStreamWindow());
        assertEquals(8 * MIB, t.streamWindow());
        assertEquals(t.toString(), t.toBuilder().build().toString(), "a copy keeps it");
        SmuxConfig f = t.toBuilder().streamWindow(512 * (int) KIB).build();
        assertTrue(!f.windowTuned(), "a fixed window turns tuning off");
        assertEquals(512 * KIB, f.initialStreamWindow());
        assertEquals(512 * KIB, f.streamWindow());
        for (int[] bad : new int[][] {{1023, 2048}, {4096, 2048}, {1024, (1 << 30) + 1}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SmuxConfig.builder().streamWindowTuned(bad[0], bad[1]));
            assertTrue(e.getMessage().contains("1024 <= initial <= maximum <= 1 GiB"), e.getMessage());
        }
    }

    @Test
    void toStringNamesTheSettings() {
        String s = SmuxConfig.defaults().toString();
        assertTrue(s.contains("version=2"), s);
        assertTrue(s.contains("streamWindow=262144..33554432 (tuned)"), s);
        assertTrue(SmuxConfig.builder().streamWindow(524288).build().toString().contains("streamWindow=524288,"));
        assertTrue(s.contains("transport=auto"), s);
        assertTrue(SmuxConfig.builder().transport("socket").build().toString().contains("transport=socket"));
    }

    // ------------------------------------------------------------------ helpers

    /** Applies {@code setting} to a fresh builder and expects an IllegalArgumentException whose message has every part. */
    private static IllegalArgumentException assertRejected(Consumer<SmuxConfig.Builder> setting, String... messageParts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> setting.accept(SmuxConfig.builder()));
        for (String part : messageParts) {
            assertTrue(e.getMessage() != null && e.getMessage().contains(part),
                    "expected the message to contain '" + part + "', was: " + e.getMessage());
        }
        return e;
    }

    private static void assertSameSettings(SmuxConfig expected, SmuxConfig actual) {
        assertAll(
                () -> assertEquals(expected.version(), actual.version(), "version"),
                () -> assertEquals(expected.streamWindow(), actual.streamWindow(), "streamWindow"),
                () -> assertEquals(expected.maxFrameSize(), actual.maxFrameSize(), "maxFrameSize"),
                () -> assertEquals(expected.stagingBufferSize(), actual.stagingBufferSize(), "stagingBufferSize"),
                () -> assertEquals(expected.keepAliveEnabled(), actual.keepAliveEnabled(), "keepAliveEnabled"),
                () -> assertEquals(expected.keepAliveInterval(), actual.keepAliveInterval(), "keepAliveInterval"),
                () -> assertEquals(expected.keepAliveTimeout(), actual.keepAliveTimeout(), "keepAliveTimeout"),
                () -> assertEquals(expected.acceptBacklog(), actual.acceptBacklog(), "acceptBacklog"),
                () -> assertEquals(expected.maxStreams(), actual.maxStreams(), "maxStreams"),
                () -> assertEquals(expected.maxSessionBuffer(), actual.maxSessionBuffer(), "maxSessionBuffer"),
                () -> assertEquals(expected.probeTimeout(), actual.probeTimeout(), "probeTimeout"),
                () -> assertEquals(expected.closeTimeout(), actual.closeTimeout(), "closeTimeout"),
                () -> assertEquals(expected.probePeer(), actual.probePeer(), "probePeer"),
                () -> assertEquals(expected.threadFactory(), actual.threadFactory(), "threadFactory"),
                () -> assertEquals(expected.transport(), actual.transport(), "transport"));
    }
}
