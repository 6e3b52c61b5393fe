package smux.bench.core;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import smux.api.MemoryBudget;
import smux.api.Session;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;

/**
 * One NIO loop holding many sessions: N loopback session pairs on the nio transport (2N
 * sessions, 2N sockets, all in this process), each moving a small echo on one stream. Reports
 * how many worked, the smux threads alive while they are all open, and heap per session.
 */
public final class NioSessions {
    /** Bytes each session pair echoes. */
    static final int PAYLOAD = 4096;

    private NioSessions() {
    }

    /**
     * @param heapOpened used heap with every session open, before any data moved
     * @param bytesPerSession heap per session after the echo (streams closed again)
     * @param bytesPerSessionOpened heap per session just opened, before any data
     */
    public record Result(int asked, int pairs, int worked, List<String> smuxThreads, long heapBefore, long heapOpened, long heapAfter,
                  double bytesPerSession, double bytesPerSessionOpened, long fdLimit, String error) {
    }

    static Result run(SmuxConfig base, int asked) throws Exception {
        int pairs = Heap.connectionsThatFit(asked);
        // Each pair's echo stream reserves its receive window on both ends; the default shared
        // budget (a quarter of the heap) holds about 3,000 such pairs, and past it the echo waits
        // on admission instead of measuring the loop. Room for every pair, as the stream cases get.
        long reserved = 2L * pairs * Math.max(base.initialStreamWindow(), SmuxConfig.INITIAL_PEER_WINDOW);
        SmuxConfig config = base.toBuilder().transport("nio")
                .memoryBudget(MemoryBudget.of(Math.max(MemoryBudget.MIN_CAPACITY, 2 * reserved))).build();
        List<Session> clients = new ArrayList<>(pairs);
        List<Session> servers = new ArrayList<>(pairs);
        ExecutorService pool = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, Workers.PREFIX + "nio-sessions");
            t.setDaemon(true);
            return t;
        });
        String error = null;
        try (ServerSocketChannel listener = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), Math.max(50, pairs))) {
            long before = Heap.usedAfterGc();
            Future<?> acceptor = pool.submit(() -> {
                for (int i = 0; i < pairs; i++) {
                    SocketChannel ch = listener.accept();
                    Session s = Smux.server(ch, config);
                    synchronized (servers) {
                        servers.add(s);
                    }
                }
                return null;
            });
            InetSocketAddress target = (InetSocketAddress) listener.getLocalAddress();
            for (int i = 0; i < pairs; i++) {
                clients.add(Smux.connect(target, config));
            }
            acceptor.get(60, TimeUnit.SECONDS);
            long opened = Heap.usedAfterGc();

            List<Session> serverCopy;
            synchronized (servers) {
                serverCopy = new ArrayList<>(servers);
            }
            // Three phases, each spread over the pool, so no task waits on one not yet started:
            // every client sends, every server echoes, every client checks what came back.
            SmuxStream[] clientStreams = new SmuxStream[pairs];
            SmuxStream[] serverStreams = new SmuxStream[pairs];
            byte[][] sent = new byte[pairs][];
            List<String> errors = java.util.Collections.synchronizedList(new ArrayList<>());
            all(pool, pairs, errors, i -> {
                byte[] out = new byte[PAYLOAD];
                Arrays.fill(out, (byte) i);
                sent[i] = out;
                clientStreams[i] = clients.get(i).openStream();
                clientStreams[i].setReadTimeout(Duration.ofSeconds(30));
                clientStreams[i].outputStream().write(out);
            });
            all(pool, pairs, errors, i -> {
                SmuxStream st = serverCopy.get(i).acceptStream(Duration.ofSeconds(30));
                serverStreams[i] = st;
                st.setReadTimeout(Duration.ofSeconds(30));
                byte[] buf = new byte[PAYLOAD];
                RoundTrip.readFully(st.inputStream(), buf);
                st.outputStream().write(buf);
                st.closeWrite();
            });
            AtomicInteger worked = new AtomicInteger();
            all(pool, pairs, errors, i -> {
                byte[] back = new byte[PAYLOAD];
                RoundTrip.readFully(clientStreams[i].inputStream(), back);
                if (Arrays.equals(sent[i], back) && clientStreams[i].inputStream().read() < 0) {
                    worked.incrementAndGet();
                }
            });
            for (int i = 0; i < pairs; i++) {
                Load.closeQuietly(clientStreams[i]);
                Load.closeQuietly(serverStreams[i]);
            }
            if (!errors.isEmpty()) {
                error = errors.size() + " tasks failed, the first: " + errors.get(0);
            }
            List<String> smuxThreads = Workers.smuxThreads();
            int open = 0;
            for (Session s : clients) {
                open += s.isClosed() ? 0 : 1;
            }
            for (Session s : serverCopy) {
                open += s.isClosed() ? 0 : 1;
            }
            if (open != 2 * pairs && error == null) {
                error = (2 * pairs - open) + " sessions closed before the end";
            }
            long after = Heap.usedAfterGc();
            return new Result(asked, pairs, worked.get(), smuxThreads, before, opened, after,
                    (after - before) / (2.0 * pairs), (opened - before) / (2.0 * pairs), Heap.maxFileDescriptors(), error);
        } finally {
            try {
                closeAll(clients);
                synchronized (servers) {
                    closeAll(servers);
                }
            } finally {
                pool.shutdownNow();
                pool.awaitTermination(10, TimeUnit.SECONDS);
            }
        }
    }

    /** Closes every session; a close that dropped committed bytes is reported after all are closed. */
    private static void closeAll(List<Session> sessions) throws IOException {
        IOException first = null;
        for (Session s : sessions) {
            try {
                s.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    private interface Task {
        void run(int i) throws Exception;
    }

    /** Runs {@code task} for 0..n-1 on the pool and waits for all; failures go to {@code errors}. */
    private static void all(ExecutorService pool, int n, List<String> errors, Task task) throws InterruptedException {
        List<Future<?>> jobs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int k = i;
            jobs.add(pool.submit(() -> {
                task.run(k);
                return null;
            }));
        }
        for (Future<?> f : jobs) {
            try {
                f.get(60, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                errors.add(String.valueOf(e.getCause()));
            } catch (java.util.concurrent.TimeoutException e) {
                errors.add("a task took longer than 60 s");
                f.cancel(true);
            }
        }
    }
}
