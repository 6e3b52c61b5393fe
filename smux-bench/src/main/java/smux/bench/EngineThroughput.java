package smux.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
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
import smux.api.SmuxConfig;
import smux.engine.EngineEvent;
import smux.engine.SmuxEngine;

/**
 * Two engines, a client and a server, driven by one thread through memory: the cost of the
 * protocol itself with no socket in the way.
 *
 * <p>One operation writes {@code writeSize} (128 KiB) bytes on each of {@code streams} client
 * streams at once and pumps until the server's application has read all of them: the client's
 * frames are pulled into a 256 KiB staging buffer and fed whole to the server, the server's
 * application reads each readable stream into its buffer, and the server's frames (UPD) go back
 * the same way. Version 2, 512 KiB window, 32 KiB frames, keepalive on (never due).
 *
 * <p>Read the rate from {@code transfer:bytes} (payload bytes per second) and the allocation from
 * {@code gc.alloc.rate.norm} over {@code transfer:frames / transfer}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
public class EngineThroughput {
    @Param({"1", "100"})
    public int streams;

    /** Bytes written per stream per operation; the application's read buffer stays 128 KiB. */
    @Param({"131072"})
    public int writeSize;

    /** A direct staging buffer is what a socket transport hands to the kernel without a copy. */
    @Param({"true"})
    public boolean directStaging;

    private SmuxEngine client;
    private SmuxEngine server;
    private int[] ids;
    private ByteBuffer[] src;
    private ByteBuffer staging;
    private ByteBuffer appIn;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        SmuxConfig config = SmuxConfig.builder()
                .version(2)
                .streamWindow(Sizes.WINDOW)
                .maxFrameSize(Sizes.FRAME_SIZE)
                .stagingBufferSize(Sizes.STAGING_SIZE)
                .build();
        long now = System.nanoTime();
        client = new SmuxEngine(true, config, now);
        server = new SmuxEngine(false, config, now);
        staging = directStaging ? ByteBuffer.allocateDirect(Sizes.STAGING_SIZE) : ByteBuffer.allocate(Sizes.STAGING_SIZE);
        appIn = ByteBuffer.allocate(Sizes.WRITE_SIZE);
        ids = new int[streams];
        src = new ByteBuffer[streams];
        for (int i = 0; i < streams; i++) {
            ids[i] = client.openStream(now);
            byte[] b = new byte[writeSize];
            Sizes.fill(b, i);
            src[i] = ByteBuffer.wrap(b);
        }
        pump(now);
        for (int i = 0; i < streams; i++) {
            int id = server.accept();
            if (id != ids[i]) {
                throw new IllegalStateException("server accepted stream " + id + ", expected " + ids[i]);
            }
        }
        while (server.pollEvent() != null) {
            // StreamOpened: already accepted above
        }
        verifyOneRound(now);
    }

    @Benchmark
    public long transfer(Transferred counters) throws IOException {
        long now = System.nanoTime();
        long framesBefore = client.framesSent() + server.framesSent();
        for (int i = 0; i < streams; i++) {
            src[i].clear();
            client.write(ids[i], src[i]);
        }
        long want = (long) streams * writeSize;
        long got = 0;
        while (got < want) {
            int moved = pump(now);
            int n = drainServer();
            if (moved == 0 && n == 0) {
                throw new IllegalStateException("stalled after " + got + " of " + want + " bytes");
            }
            got += n;
        }
        while (client.pollEvent() != null) {
            // Writable: every write was pulled in full; nothing to do
        }
        counters.bytes += got;
        counters.frames += client.framesSent() + server.framesSent() - framesBefore;
        return got;
    }

    /** One round trip through the staging buffer: client to server, then server to client. */
    private int pump(long now) {
        staging.clear();
        int out = client.pollTransmit(staging, now);
        staging.flip();
        server.handleInput(staging, now);
        staging.clear();
        int back = server.pollTransmit(staging, now);
        staging.flip();
        client.handleInput(staging, now);
        return out + back;
    }

    /** The server's application: reads every stream that says it is readable, until it is empty. */
    private int drainServer() throws IOException {
        int total = 0;
        EngineEvent e;
        while ((e = server.pollEvent()) != null) {
            if (e instanceof EngineEvent.Readable r) {
                int n;
                do {
                    appIn.clear();
                    n = server.read(r.streamId(), appIn);
                    total += Math.max(n, 0);
                } while (n > 0);
            }
        }
        return total;
    }

    /** Checks, outside the measurement, that every stream delivers exactly what was written. */
    private void verifyOneRound(long now) throws IOException {
        byte[][] got = new byte[streams][writeSize];
        int[] fill = new int[streams];
        for (int i = 0; i < streams; i++) {
            src[i].clear();
            client.write(ids[i], src[i]);
        }
        long left = (long) streams * writeSize;
        while (left > 0) {
            int moved = pump(now);
            int n = 0;
            EngineEvent e;
            while ((e = server.pollEvent()) != null) {
                if (e instanceof EngineEvent.Readable r) {
                    int k = r.streamId() >>> 1; // client ids are 3, 5, 7, ...: index (id - 3) / 2
                    int i = k - 1;
                    int m;
                    do {
                        appIn.clear();
                        m = server.read(r.streamId(), appIn);
                        if (m > 0) {
                            appIn.flip();
                            appIn.get(got[i], fill[i], m);
                            fill[i] += m;
                            n += m;
                        }
                    } while (m > 0);
                }
            }
            if (moved == 0 && n == 0) {
                throw new IllegalStateException("stalled in the verification round");
            }
            left -= n;
        }
        while (client.pollEvent() != null) {
            // drained
        }
        for (int i = 0; i < streams; i++) {
            if (!Arrays.equals(got[i], src[i].array())) {
                throw new IllegalStateException("stream " + ids[i] + " delivered different bytes");
            }
        }
    }
}
