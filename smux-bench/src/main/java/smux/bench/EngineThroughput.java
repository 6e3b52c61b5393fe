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
import smux.engine.SmuxEngine;
import smux.engine.StreamSides;
import smux.engine.runtime.ReceiveSide;
import smux.engine.runtime.SegmentPool;
import smux.engine.runtime.SendSide;

/**
 * Two engines, a client and a server, driven by one thread through memory: the cost of the
 * protocol itself with no socket in the way. Every stream has the production sides, a
 * {@link SendSide} and a {@link ReceiveSide}, as in a session, so this measures the code
 * production runs, minus the threads.
 *
 * <p>One operation writes {@code writeSize} (128 KiB) bytes on each of {@code streams} client
 * streams at once and pumps until the server's application has read all of them: the client's
 * frames are pulled into a 256 KiB staging buffer and fed whole to the server, the server's
 * application reads every stream into its buffer (reporting its reads when the side asks, as a
 * session does), and the server's frames (UPD) go back the same way. Version 2, 512 KiB window,
 * 32 KiB frames, keepalive on (never due).
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

    /** One end's streams: their sides, in order of birth, and which owe the engine a consumption report. */
    private static final class Ends implements StreamSides.Factory {
        private final SegmentPool pool = new SegmentPool(256);
        final ReceiveSide[] rx;
        final SendSide[] tx;
        final int[] ids;
        final boolean[] due;
        int born;

        Ends(int streams) {
            rx = new ReceiveSide[streams];
            tx = new SendSide[streams];
            ids = new int[streams];
            due = new boolean[streams];
        }

        @Override
        public StreamSides create(int id) {
            int i = born++;
            ids[i] = id;
            rx[i] = new ReceiveSide(pool, () -> due[i] = true);
            tx[i] = new SendSide();
            ReceiveSide in = rx[i];
            SendSide out = tx[i];
            return new StreamSides() {
                @Override
                public ReceiveSide inbound() {
                    return in;
                }

                @Override
                public SendSide outbound() {
                    return out;
                }
            };
        }

        /** Tells the engine what the application read, for the streams whose side asked (never inside an engine call). */
        void report(SmuxEngine engine) {
            for (int i = 0; i < born; i++) {
                if (due[i]) {
                    due[i] = false;
                    engine.stream(ids[i]).consumed(rx[i].consumed());
                }
            }
        }
    }

    private Ends clientEnds;
    private Ends serverEnds;
    private SmuxEngine client;
    private SmuxEngine server;
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
        clientEnds = new Ends(streams);
        serverEnds = new Ends(streams);
        client = new SmuxEngine(true, config, now, clientEnds);
        server = new SmuxEngine(false, config, now, serverEnds);
        staging = directStaging ? ByteBuffer.allocateDirect(Sizes.STAGING_SIZE) : ByteBuffer.allocate(Sizes.STAGING_SIZE);
        appIn = ByteBuffer.allocate(Sizes.WRITE_SIZE);
        src = new ByteBuffer[streams];
        for (int i = 0; i < streams; i++) {
            client.openStream(now);
            byte[] b = new byte[writeSize];
            Sizes.fill(b, i);
            src[i] = ByteBuffer.wrap(b);
        }
        pump(now);
        for (int i = 0; i < streams; i++) {
            int id = server.accept();
            if (id != clientEnds.ids[i] || id != serverEnds.ids[i]) {
                throw new IllegalStateException("server accepted stream " + id + ", expected " + clientEnds.ids[i]);
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
        postWrites();
        long want = (long) streams * writeSize;
        long got = 0;
        while (got < want) {
            int moved = pump(now);
            int n = drainServer(null, null);
            if (moved == 0 && n == 0) {
                throw new IllegalStateException("stalled after " + got + " of " + want + " bytes");
            }
            got += n;
        }
        counters.bytes += got;
        counters.frames += client.framesSent() + server.framesSent() - framesBefore;
        return got;
    }

    /** Posts one write on every client stream, as a stream handle does before it waits. */
    private void postWrites() {
        for (int i = 0; i < streams; i++) {
            src[i].clear();
            clientEnds.tx[i].post(src[i]);
            client.stream(clientEnds.ids[i]).outboundChanged();
        }
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

    /**
     * The server's application: reads every stream until it is empty, then reports its reads where
     * the sides asked. With {@code got}, keeps what it read per stream.
     */
    private int drainServer(byte[][] got, int[] fill) throws IOException {
        int total = 0;
        for (int i = 0; i < streams; i++) {
            int n;
            while (true) {
                appIn.clear();
                n = serverEnds.rx[i].poll(appIn, "the benchmark's stream");
                if (n <= 0) {
                    break;
                }
                if (got != null) {
                    appIn.flip();
                    appIn.get(got[i], fill[i], n);
                    fill[i] += n;
                }
                total += n;
            }
        }
        serverEnds.report(server);
        return total;
    }

    /** Checks, outside the measurement, that every stream delivers exactly what was written. */
    private void verifyOneRound(long now) throws IOException {
        byte[][] got = new byte[streams][writeSize];
        int[] fill = new int[streams];
        postWrites();
        long left = (long) streams * writeSize;
        while (left > 0) {
            int moved = pump(now);
            int n = drainServer(got, fill);
            if (moved == 0 && n == 0) {
                throw new IllegalStateException("stalled in the verification round");
            }
            left -= n;
        }
        for (int i = 0; i < streams; i++) {
            if (!clientEnds.tx[i].ended()) {
                throw new IllegalStateException("stream " + clientEnds.ids[i] + ": its write did not end");
            }
            if (!Arrays.equals(got[i], src[i].array())) {
                throw new IllegalStateException("stream " + clientEnds.ids[i] + " delivered different bytes");
            }
        }
    }
}
