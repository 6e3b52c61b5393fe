package smux.bench.core;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import smux.api.Session;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;

/**
 * One running bulk-transfer case: N byte streams, each with a writer thread that writes 128 KiB
 * buffers as fast as it can, and (on loopback) a reader thread that drains them. Raw TCP uses N
 * connections; smux uses N streams of one session. Both use blocking stream I/O, so the two
 * differ only by what smux adds.
 *
 * <p>On loopback the bytes are counted where they arrive (the readers); against a remote
 * discard server they are counted as the writes complete.
 */
abstract class Load implements AutoCloseable {
    /** The application write size of every case. */
    static final int WRITE_SIZE = 128 * 1024;

    protected final Workers workers;
    protected final LongAdder bytes = new LongAdder();
    /** Workers wait for this until every connection is set up: thousands of busy threads would starve the setup. */
    private final CountDownLatch go = new CountDownLatch(1);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    protected volatile boolean stopping;
    /** Writers run only while active, so several loads can stay open and take turns. */
    private volatile boolean active;
    private final Object gate = new Object();

    Load(String name) {
        this.workers = new Workers(name);
    }

    /** @return bytes counted so far */
    long bytes() {
        return bytes.sum();
    }

    /** @return the first failure of a worker that was not caused by the case ending, if any */
    Throwable failure() {
        return failure.get();
    }

    /** Releases the workers once everything is connected. */
    protected void go() {
        go.countDown();
    }

    /**
     * Lets the writers run or holds them: a held writer finishes its current write and waits,
     * while the readers keep draining, so the connections go quiet within moments.
     */
    void setActive(boolean on) {
        synchronized (gate) {
            active = on;
            gate.notifyAll();
        }
    }

    /** @return false if the load is stopping */
    private boolean awaitActive() {
        if (active) {
            return !stopping;
        }
        synchronized (gate) {
            while (!active && !stopping) {
                try {
                    gate.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return !stopping;
    }

    /**
     * Stops the workers and closes every connection. Each writer ends after its current write
     * and half-closes, so its reader drains to end-of-stream and ends too; then the connections
     * are closed (which also ends any worker that is stuck).
     */
    @Override
    public void close() {
        stopping = true;
        go.countDown();
        setActive(true);
        int alive = workers.joinAll(10_000);
        closeConnections();
        if (alive > 0) {
            alive = workers.joinAll(10_000);
            if (alive > 0) {
                failed(new IllegalStateException(alive + " bench workers did not end within 20 s of the close"));
            }
        }
    }

    private boolean awaitGo() {
        try {
            go.await();
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    protected abstract void closeConnections();

    protected void failed(Throwable t) {
        if (!stopping) {
            failure.compareAndSet(null, t);
        }
    }

    /** Half-closes one connection or stream after its writer's last write. */
    protected interface Finish {
        void run() throws IOException;
    }

    protected void writeLoop(OutputStream out, boolean count, Finish finish) {
        byte[] buf = payload();
        if (!awaitGo()) {
            return;
        }
        try {
            while (awaitActive()) {
                out.write(buf);
                if (count) {
                    bytes.add(buf.length);
                }
            }
            finish.run();
        } catch (IOException | RuntimeException e) {
            failed(e);
        }
    }

    protected void readLoop(InputStream in) {
        byte[] buf = new byte[WRITE_SIZE];
        if (!awaitGo()) {
            return;
        }
        try {
            int n;
            while ((n = in.read(buf)) >= 0) {
                bytes.add(n);
            }
        } catch (IOException | RuntimeException e) {
            failed(e);
        }
    }

    private static byte[] payload() {
        byte[] b = new byte[WRITE_SIZE];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 31 + 7);
        }
        return b;
    }

    static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception ignored) {
            // ending the case; nothing else to do
        }
    }

    /** Connects a load's connections and starts its workers. */
    protected interface Setup<L extends Load> {
        void run(L load) throws Exception;
    }

    /** @return {@code load} set up and released, or closed if the setup failed */
    protected static <L extends Load> L start(L load, Setup<L> setup) throws Exception {
        try {
            setup.run(load);
            load.go();
            return load;
        } catch (Exception e) {
            load.close();
            throw e;
        }
    }

    /** Waits for the next connection or stream to read from. */
    protected interface Accept {
        InputStream next() throws IOException;
    }

    /**
     * Accepts {@code n} connections or streams on a worker, with a reader for each.
     *
     * @return completes when all are accepted
     */
    protected CompletableFuture<Void> acceptReaders(int n, Accept accept) {
        CompletableFuture<Void> accepted = new CompletableFuture<>();
        workers.start("accept", () -> {
            try {
                for (int i = 0; i < n; i++) {
                    InputStream in = accept.next();
                    workers.start("read", () -> readLoop(in));
                }
                accepted.complete(null);
            } catch (IOException | RuntimeException e) {
                accepted.completeExceptionally(e);
            }
        });
        return accepted;
    }

    // ------------------------------------------------------------------ raw TCP

    /** N raw TCP connections, over loopback (with readers) or to a remote discard server. */
    static final class Raw extends Load {
        private final List<Socket> sockets = new ArrayList<>();
        private ServerSocket listener;

        private Raw(String name) {
            super(name);
        }

        static Raw loopback(int connections) throws Exception {
            return start(new Raw("raw" + connections), r -> {
                r.listener = new ServerSocket(0, Math.max(50, connections), InetAddress.getLoopbackAddress());
                CompletableFuture<Void> accepted = r.acceptReaders(connections, () -> {
                    Socket s = r.listener.accept();
                    s.setTcpNoDelay(true);
                    r.track(s);
                    return s.getInputStream();
                });
                for (int i = 0; i < connections; i++) {
                    r.connectWriter(r.listener.getLocalSocketAddress(), false);
                }
                accepted.get(60, TimeUnit.SECONDS);
            });
        }

        static Raw remote(InetSocketAddress peer, int connections) throws Exception {
            return start(new Raw("rawpeer" + connections), r -> {
                for (int i = 0; i < connections; i++) {
                    r.connectWriter(peer, true);
                }
            });
        }

        /** Connects one connection and starts its writer, which counts the bytes if nobody reads them here. */
        private void connectWriter(SocketAddress target, boolean count) throws IOException {
            Socket s = new Socket();
            s.setTcpNoDelay(true);
            s.connect(target, 10_000);
            track(s);
            OutputStream out = s.getOutputStream();
            workers.start("write", () -> writeLoop(out, count, s::shutdownOutput));
        }

        private synchronized void track(Socket s) {
            sockets.add(s);
        }

        @Override
        protected void closeConnections() {
            closeQuietly(listener);
            List<Socket> copy;
            synchronized (this) {
                copy = new ArrayList<>(sockets);
            }
            copy.forEach(Load::closeQuietly);
        }
    }

    // ------------------------------------------------------------------ smux

    /** N streams of one smux session, over loopback (with readers) or to a remote discard server. */
    static final class Mux extends Load {
        private volatile Session client;
        private volatile Session server;

        private Mux(String name) {
            super(name);
        }

        static Mux loopback(SmuxConfig config, int streams) throws Exception {
            return start(new Mux(config.transport().orElse("smux") + streams), m -> {
                Session[] pair = LoopbackPair.open(config);
                m.client = pair[0];
                m.server = pair[1];
                CompletableFuture<Void> accepted = m.acceptReaders(streams, () -> m.server.acceptStream().inputStream());
                m.startWriters(streams, false);
                accepted.get(60, TimeUnit.SECONDS);
            });
        }

        static Mux remote(SmuxConfig config, InetSocketAddress peer, int streams) throws Exception {
            return start(new Mux(config.transport().orElse("smux") + "peer" + streams), m -> {
                m.client = Smux.connect(peer, config);
                m.startWriters(streams, true);
            });
        }

        private void startWriters(int streams, boolean count) throws IOException {
            for (int i = 0; i < streams; i++) {
                SmuxStream s = client.openStream();
                workers.start("write", () -> writeLoop(s.outputStream(), count, s::closeWrite));
            }
        }

        @Override
        protected void closeConnections() {
            closeQuietly(client);
            closeQuietly(server);
        }
    }

    /** Waits, ignoring interrupts' effect on timing except to stop early. */
    static void sleep(Duration d) {
        try {
            Thread.sleep(Math.max(0, d.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
