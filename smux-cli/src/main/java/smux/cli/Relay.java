package smux.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * The demo's stall: a one-connection TCP relay whose client-to-server direction can stop reading,
 * exactly as a receiver that stops reading its socket (or a link that stalls) looks to the sender.
 */
final class Relay implements AutoCloseable {
    private final Object lock = new Object();
    private boolean paused;
    private ServerSocket listener;
    private Socket in;
    private Socket out;

    /** Listens on loopback and forwards the first connection to {@code target}. @return the address to dial */
    InetSocketAddress start(InetSocketAddress target) throws IOException {
        listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            try {
                Socket a = listener.accept();
                Socket b = new Socket(target.getAddress(), target.getPort());
                synchronized (lock) {
                    in = a;
                    out = b;
                }
                pump(a.getInputStream(), b.getOutputStream(), true);
                pump(b.getInputStream(), a.getOutputStream(), false);
            } catch (IOException e) {
                // the demo is over
            }
        }, "demo-relay");
        t.setDaemon(true);
        t.start();
        return (InetSocketAddress) listener.getLocalSocketAddress();
    }

    private void pump(InputStream from, OutputStream to, boolean pausable) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16 * 1024];
            try {
                while (true) {
                    if (pausable) {
                        synchronized (lock) {
                            while (paused) {
                                lock.wait();
                            }
                        }
                    }
                    int n = from.read(buf);
                    if (n < 0) {
                        to.close();
                        return;
                    }
                    to.write(buf, 0, n);
                }
            } catch (IOException | InterruptedException e) {
                // the demo is over
            }
        }, "demo-relay-pump");
        t.setDaemon(true);
        t.start();
    }

    void pause() {
        synchronized (lock) {
            paused = true;
        }
    }

    void resume() {
        synchronized (lock) {
            paused = false;
            lock.notifyAll();
        }
    }

    @Override
    public void close() throws IOException {
        resume();
        synchronized (lock) {
            for (java.io.Closeable c : new java.io.Closeable[] {in, out, listener}) {
                if (c != null) {
                    c.close();
                }
            }
        }
    }
}
