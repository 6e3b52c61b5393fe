package smux.bench;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The floor for {@link EngineThroughput}: the same bytes moved through the same buffers with the
 * same three copies and no protocol. Per operation, {@code writeSize} (128 KiB) bytes of each of
 * {@code streams} application buffers are copied in 32 KiB chunks, round-robin across the
 * streams, into a 256 KiB staging buffer until the next chunk does not fit (as frames are packed);
 * then, in the engine's order, all of them are copied from the staging buffer into a receive
 * array (the engine's pooled, cache-warm segments), and then from there into the 128 KiB
 * application buffer. The order matters: copying each chunk straight through while it is hot in
 * L1 would be a floor no buffering receiver can reach.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
public class CopyBaseline {
    @Param({"1", "100"})
    public int streams;

    @Param({"131072"})
    public int writeSize;

    @Param({"true"})
    public boolean directStaging;

    private ByteBuffer[] src;
    private ByteBuffer staging;
    private byte[] receive;
    private ByteBuffer appIn;
    private int[] chunkLength;

    @Setup(Level.Trial)
    public void setUp() {
        staging = directStaging ? ByteBuffer.allocateDirect(Sizes.STAGING_SIZE) : ByteBuffer.allocate(Sizes.STAGING_SIZE);
        receive = new byte[Sizes.STAGING_SIZE];
        appIn = ByteBuffer.allocate(Sizes.WRITE_SIZE);
        chunkLength = new int[Sizes.STAGING_SIZE / Sizes.FRAME_SIZE + 1];
        src = new ByteBuffer[streams];
        for (int i = 0; i < streams; i++) {
            byte[] b = new byte[writeSize];
            Sizes.fill(b, i);
            src[i] = ByteBuffer.wrap(b);
        }
    }

    @Benchmark
    public long copy(Transferred counters) {
        for (ByteBuffer b : src) {
            b.clear();
        }
        long want = (long) streams * writeSize;
        long got = 0;
        int next = 0;
        while (got < want) {
            // Pack: 32 KiB chunks round-robin into the staging buffer while they fit.
            staging.clear();
            int chunks = 0;
            for (int tries = 0; tries < streams; tries++) {
                ByteBuffer s = src[next];
                if (!s.hasRemaining()) {
                    next = next + 1 == streams ? 0 : next + 1;
                    continue;
                }
                int n = Math.min(Sizes.FRAME_SIZE, s.remaining());
                if (staging.remaining() < n) {
                    break;
                }
                staging.put(staging.position(), s, s.position(), n);
                staging.position(staging.position() + n);
                s.position(s.position() + n);
                chunkLength[chunks++] = n;
                next = next + 1 == streams ? 0 : next + 1;
                tries = -1; // progress: look at every stream again
            }
            staging.flip();
            // Receive: every chunk from the staging buffer into the receive array (handleInput),
            int at = 0;
            for (int c = 0; c < chunks; c++) {
                staging.get(receive, at, chunkLength[c]);
                at += chunkLength[c];
            }
            // then the application reads them out into its buffer (read), in the same order.
            at = 0;
            for (int c = 0; c < chunks; c++) {
                int n = chunkLength[c];
                if (appIn.remaining() < n) {
                    appIn.clear();
                }
                appIn.put(receive, at, n);
                at += n;
                got += n;
            }
        }
        counters.bytes += got;
        return got;
    }
}
