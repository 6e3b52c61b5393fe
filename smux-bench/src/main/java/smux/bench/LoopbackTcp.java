package smux.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the specification measures the engine against: a plain loopback TCP connection, NIO
 * {@link SocketChannel}s in blocking mode with direct buffers (the fastest plain Java path; heap
 * buffers add a copy). The benchmark thread is the writer, 128 KiB per write; a reader thread
 * drains the other end into a 128 KiB buffer. Note that TCP gets two threads (plus the kernel)
 * while {@link EngineThroughput} runs both engines on one.
 *
 * <p>{@code sources} is how many distinct 128 KiB buffers the writer takes turns with, so that the
 * source data's memory footprint matches {@link EngineThroughput}'s {@code streams} (100 streams
 * write from 12.5 MiB of buffers, which no longer sit in the L2 cache; one buffer always does).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
public class LoopbackTcp {
    @Param({"1", "100"})
    public int sources;

    private ServerSocketChannel listener;
    private SocketChannel writer;
    private SocketChannel reader;
    /** The reader thread; package-private so InterleavedRatios can read its CPU time. */
    Thread drain;
    private ByteBuffer[] out;
    private int next;
    private volatile long drained;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        listener = ServerSocketChannel.open();
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        writer = SocketChannel.open(listener.getLocalAddress());
        reader = listener.accept();
        out = new ByteBuffer[sources];
        byte[] b = new byte[Sizes.WRITE_SIZE];
        for (int i = 0; i < sources; i++) {
            Sizes.fill(b, i);
            out[i] = ByteBuffer.allocateDirect(Sizes.WRITE_SIZE);
            out[i].put(b).flip();
        }
        drain = new Thread(this::drain, "loopback-reader");
        drain.setDaemon(true);
        drain.start();
    }

    private void drain() {
        ByteBuffer in = ByteBuffer.allocateDirect(Sizes.WRITE_SIZE);
        long total = 0;
        try {
            while (true) {
                in.clear();
                int n = reader.read(in);
                if (n < 0) {
                    break;
                }
                total += n;
            }
        } catch (IOException e) {
            // the trial is over and the channel was closed
        }
        drained = total;
    }

    @Benchmark
    public int write(Transferred counters) throws IOException {
        ByteBuffer b = out[next];
        next = next + 1 == sources ? 0 : next + 1;
        b.clear();
        while (b.hasRemaining()) {
            writer.write(b);
        }
        counters.bytes += Sizes.WRITE_SIZE;
        return Sizes.WRITE_SIZE;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException, InterruptedException {
        writer.close();
        drain.join(10_000);
        reader.close();
        listener.close();
        if (drained == 0) {
            throw new IllegalStateException("the reader drained nothing");
        }
    }
}
