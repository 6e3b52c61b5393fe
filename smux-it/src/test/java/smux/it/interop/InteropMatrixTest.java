package smux.it.interop;

import java.util.List;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import smux.it.interop.Combo.Direction;
import smux.it.interop.GoPeer.Release;

/**
 * Live traffic between this library and Go xtaci/smux over loopback TCP, for every cell of the matrix
 * {v1.5.16, v1.5.58} x {Java client -> Go server, Go client -> Java server} x {v1, v2} x {socket, nio}.
 */
class InteropMatrixTest {
    static final long MIB = 1024 * 1024;

    static List<Combo> all() {
        return Combo.all();
    }

    /**
     * The four cells that carry the full load (100 streams, sizes up to 8 MiB, about 400 MiB each way):
     * between them they cover both releases, both directions, both protocol versions and both transports.
     */
    static boolean heavy(Combo c) {
        return List.of(
                new Combo(Release.V1_5_16, Direction.JAVA_CLIENT, 1, "socket"),
                new Combo(Release.V1_5_16, Direction.GO_CLIENT, 2, "nio"),
                new Combo(Release.V1_5_58, Direction.JAVA_CLIENT, 2, "nio"),
                new Combo(Release.V1_5_58, Direction.GO_CLIENT, 1, "socket")).contains(c);
    }

    /**
     * 100 concurrent echo streams with random sizes and random content; each side hashes what it sent and
     * received (SHA-256) and the digests are compared stream by stream; the Java client also checks every
     * echoed byte, and the Go client does the same.
     *
     * <p>Scaled for the build's time budget: the {@link #heavy} cells draw sizes up to 8 MiB (about 400 MiB
     * each way, echoed); the other twelve up to 512 KiB. Every cell runs 100 concurrent streams.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("all")
    @Timeout(120)
    void hundredConcurrentStreamsWithChecksums(Combo c) throws Exception {
        long max = heavy(c) ? 8 * MIB : 512 * 1024;
        Exchange.of(c).mode("echo").streams(100).randomSizes(max, 42).run().assertAllMatch(100);
    }
}
