package smux.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import smux.api.Session;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;

/**
 * What the whole data path allocates in a steady state, transport and runtime included (the JMH
 * benchmarks measure the pure engine): a session pair over loopback, every stream written with
 * 128 KiB buffers and drained, and the bytes allocated by every thread of the process over a
 * measured stretch after a warm-up, per 32 KiB frame carried. Threads that live through the
 * stretch are counted exactly ({@code ThreadMXBean.getThreadAllocatedBytes}); the figure includes
 * the harness's own threads and the JIT's rare rematerializations, so a figure near 0 bytes per
 * frame is what "allocates nothing per frame" looks like.
 *
 * <pre>java -cp smux-bench/target/benchmarks.jar smux.bench.SessionAllocationCheck [socket|nio] [streams...]</pre>
 */
public final class SessionAllocationCheck {
    private static final int WRITE = 128 * 1024;
    private static final int FRAME = 32 * 1024;

    private SessionAllocationCheck() {
    }

    public static void main(String[] args) throws Exception {
        String transport = args.length > 0 ? args[0] : "socket";
        List<Integer> counts = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            counts.add(Integer.parseInt(args[i]));
        }
        if (counts.isEmpty()) {
            counts = List.of(1, 100);
        }
        for (int streams : counts) {
            run(transport, streams);
        }
    }

    private static void run(String transport, int streams) throws Exception {
        SmuxConfig config = SmuxConfig.builder().transport(transport).streamWindow(512 * 1024)
                .maxStreams(streams + 16).acceptBacklog(streams + 16).build();
        try (ServerSocketChannel listener = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            // the accepting side on a thread of its own, never queued on the common pool
            CompletableFuture<Session> accepted = CompletableFuture.supplyAsync(() -> {
                try {
                    return Smux.server(listener.accept(), config);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, r -> new Thread(r, "accept").start());
            try (Session client = Smux.client(SocketChannel.open(listener.getLocalAddress()), config);
                 Session server = accepted.get()) {
                LongAdder received = new LongAdder();
                AtomicBoolean stop = new AtomicBoolean();
                List<Thread> threads = new ArrayList<>();
                for (int i = 0; i < streams; i++) {
                    SmuxStream out = client.openStream();
                    out.outputStream().write(0);
                    SmuxStream in = server.acceptStream(Duration.ofSeconds(10));
                    threads.add(start(() -> write(out.outputStream(), stop)));
                    threads.add(start(() -> read(in.inputStream(), received)));
                }
                measure(transport, streams, received, 3_000, false);
                long[] r = measure(transport, streams, received, 5_000, true);
                stop.set(true);
                client.close();
                server.close();
                for (Thread t : threads) {
                    t.join(10_000);
                }
            }
        }
    }

    private static long[] measure(String transport, int streams, LongAdder received, long millis, boolean print) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long[] ids = mx.getAllThreadIds();
        long[] before = mx.getThreadAllocatedBytes(ids);
        long bytes0 = received.sum();
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long[] after = mx.getThreadAllocatedBytes(ids);
        long bytes = received.sum() - bytes0;
        long alloc = 0;
        for (int i = 0; i < ids.length; i++) {
            if (before[i] >= 0 && after[i] >= 0) {
                alloc += after[i] - before[i];
            }
        }
        if (print) {
            double frames = (double) bytes / FRAME;
            System.out.printf(Locale.ROOT, "%s, %d stream(s): %.1f MB carried, %d bytes allocated by all threads, %.2f bytes per 32 KiB frame%n",
                    transport, streams, bytes / 1e6, alloc, alloc / frames);
        }
        return new long[] {bytes, alloc};
    }

    private static Thread start(Runnable r) {
        Thread t = new Thread(r);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void write(OutputStream out, AtomicBoolean stop) {
        byte[] buf = new byte[WRITE];
        try {
            while (!stop.get()) {
                out.write(buf);
            }
        } catch (IOException ended) {
            // the session closed
        }
    }

    private static void read(InputStream in, LongAdder received) {
        byte[] buf = new byte[WRITE];
        try {
            int n;
            while ((n = in.read(buf)) >= 0) {
                received.add(n);
            }
        } catch (IOException ended) {
            // the session closed
        }
    }
}
