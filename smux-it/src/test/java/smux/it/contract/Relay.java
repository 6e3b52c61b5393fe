package smux.it.contract;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A one-connection TCP relay that can stop forwarding each direction on cue. When paused it stops
 * reading its source, so the sender's socket buffers fill and its writes block: to the sender
 * this is a receiver that stopped reading its socket. Resuming forwards everything held back.
 */
final class Relay implements AutoCloseable {
    private final ServerSocket listener;
    private final Object lock = new Object();
    private boolean upPaused;   // client -> server
    private boolean downPaused; // server -> client
    private volatile boolean closed;
    private Socket a;
    private Socket b;
    final AtomicLong upBytes = new AtomicLong();

    private Relay(ServerSocket listener) {
        this.listener = listener;
    }

    static Relay start(InetSocketAddress target) throws IOException {
        Relay r = new Relay(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
        Thread t = new Thread(() -> r.accept(target), "test-relay-accept");
        t.setDaemon(true);
        t.start();
        return r;
    }

    InetSocketAddress address() {
        return (InetSocketAddress) listener.getLocalSocketAddress();
    }

    private void accept(InetSocketAddress target) {
        try {
            Socket in = listener.accept();
            Socket out = new Socket(target.getAddress(), target.getPort());
            synchronized (lock) {
                a = in;
                b = out;
            }
            pump(in.getInputStream(), out.getOutputStream(), true);
            pump(out.getInputStream(), in.getOutputStream(), false);
        } catch (IOException e) {
            if (!closed) {
                System.err.println("relay failed: " + e);
            }
        }
    }

    private void pump(InputStream from, OutputStream to, boolean up) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16 * 1024];
            try {
                while (true) {
                    synchronized (lock) {
                        while (up ? upPaused : downPaused) {
                            lock.wait();
                        }
                    }
                    int n = from.read(buf);
                    if (n < 0) {
                        to.close();
                        return;
                    }
                    to.write(buf, 0, n);
                    if (up) {
                        upBytes.addAndGet(n);
                    }
                }
            } catch (IOException | InterruptedException e) {
                closeQuietly();
            }
        }, up ? "test-relay-up" : "test-relay-down");
        t.setDaemon(true);
        t.start();
    }

    /** Stops forwarding client to server (the server no longer reads its socket). */
    void pauseUp() {
        synchronized (lock) {
            upPaused = true;
        }
    }

    void resumeUp() {
        synchronized (lock) {
            upPaused = false;
            lock.notifyAll();
        }
    }

    void pauseDown() {
        synchronized (lock) {
            downPaused = true;
        }
    }

    void resumeDown() {
        synchronized (lock) {
            downPaused = false;
            lock.notifyAll();
        }
    }

    /** Cuts the connection both ways (as a reset would). */
    void cut() {
        closeQuietly();
    }

    private void closeQuietly() {
        synchronized (lock) {
            upPaused = false;
            downPaused = false;
            lock.notifyAll();
            for (Socket s : new Socket[] {a, b}) {
                if (s != null) {
                    try {
                        s.close();
                    } catch (IOException ignored) {
                        // closing anyway
                    }
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        closeQuietly();
        listener.close();
    }
}
