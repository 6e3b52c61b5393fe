package smux.it.interop;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import smux.api.Session;
import smux.api.SessionClosedException;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;

/**
 * A Java smux server on an ephemeral loopback port, as an application would run one: every accepted
 * connection becomes a server session, every accepted stream runs {@code handler} on its own thread.
 * Results are collected for comparison with what the Go client reports.
 */
final class JavaServer implements AutoCloseable {
    private final SmuxConfig config;
    private final JavaModes.Body handler;
    private final ServerSocketChannel listener;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "java-server-worker");
        t.setDaemon(true);
        return t;
    });
    private final List<Session> sessions = new ArrayList<>();
    private final List<JavaModes.Result> results = new ArrayList<>();
    private final List<Throwable> failures = new ArrayList<>();
    private volatile boolean closed;

    private JavaServer(SmuxConfig config, JavaModes.Body handler) throws IOException {
        this.config = config;
        this.handler = handler;
        this.listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        pool.execute(this::acceptConnections);
    }

    static JavaServer start(SmuxConfig config, JavaModes.Body handler) throws IOException {
        return new JavaServer(config, handler);
    }

    InetSocketAddress address() {
        try {
            return (InetSocketAddress) listener.getLocalAddress();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void acceptConnections() {
        while (!closed) {
            SocketChannel ch;
            try {
                ch = listener.accept();
            } catch (IOException e) {
                if (!closed) {
                    fail(e);
                }
                return;
            }
            try {
                Session s = Smux.server(ch, config);
                synchronized (this) {
                    sessions.add(s);
                    notifyAll();
                }
                pool.execute(() -> acceptStreams(s));
            } catch (IOException | RuntimeException e) {
                fail(e);
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // already failing
                }
            }
        }
    }

    private void acceptStreams(Session session) {
        while (true) {
            SmuxStream stream;
            try {
                stream = session.acceptStream();
            } catch (SessionClosedException e) {
                return; // the session ended: the peer closed it, or we did
            } catch (IOException | RuntimeException e) {
                fail(e);
                return;
            }
            pool.execute(() -> {
                JavaModes.Result r = JavaModes.run(stream, true, handler);
                synchronized (this) {
                    results.add(r);
                    notifyAll();
                }
            });
        }
    }

    private synchronized void fail(Throwable t) {
        failures.add(t);
        notifyAll();
    }

    /** Waits for the first session and returns it. */
    synchronized Session awaitSession(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (sessions.isEmpty()) {
            waitUntil(deadline, "a connection to the Java server");
        }
        return sessions.get(0);
    }

    synchronized List<Session> sessions() {
        return List.copyOf(sessions);
    }

    /** Waits until {@code count} streams have finished their handler; returns all results so far. */
    synchronized List<JavaModes.Result> awaitResults(int count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (results.size() < count) {
            if (!failures.isEmpty()) {
                throw new AssertionError("the Java server failed: " + JavaModes.describe(failures.get(0)));
            }
            waitUntil(deadline, count + " finished streams on the Java server (have " + results.size() + ")");
        }
        return List.copyOf(results);
    }

    synchronized List<Throwable> failures() {
        return List.copyOf(failures);
    }

    private void waitUntil(long deadline, String what) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new AssertionError("timed out waiting for " + what);
        }
        try {
            TimeUnit.NANOSECONDS.timedWait(this, left);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + what, e);
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        AssertionError lost = null;
        for (Session s : sessions()) {
            try {
                s.close();
            } catch (IOException e) {
                lost = lost == null ? new AssertionError("a server session's close dropped committed bytes", e) : lost;
            }
        }
        pool.shutdownNow();
        try {
            pool.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (lost != null) {
            throw lost;
        }
    }
}
