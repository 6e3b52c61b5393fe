package smux.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * A TCP front for a tunnel server that treats each connection as its plan says, so that a test
 * can put a client in front of a server caught in a restart, deterministically: one that closes
 * a connection without a word, or answers the probe and then closes, as a server that is
 * shutting down does.
 */
final class Front implements AutoCloseable {
    /** What the front does with one accepted connection. */
    enum Act {
        /** Close it at once, reading nothing. */
        CLOSE,
        /** Forward it to the server, both ways. */
        FORWARD,
        /** Forward it until the server's first 16 bytes (the probe's answer) reached the client, then close both. */
        ANSWER_THEN_CLOSE
    }

    private static final int PROBE_ANSWER = 16;

    private final ServerSocket listener;
    private final ExecutorService pool;
    private final int serverPort;
    private final IntFunction<Act> plan;
    private final AtomicInteger accepted = new AtomicInteger();

    /** @param plan what to do with the n-th connection (from 0) */
    Front(ExecutorService pool, int serverPort, IntFunction<Act> plan) throws IOException {
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.pool = pool;
        this.serverPort = serverPort;
        this.plan = plan;
        pool.execute(this::acceptLoop);
    }

    int port() {
        return listener.getLocalPort();
    }

    /** @return connections accepted so far */
    int accepted() {
        return accepted.get();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return;
            }
            Act act = plan.apply(accepted.getAndIncrement());
            if (act == Act.CLOSE) {
                quietly(client);
                continue;
            }
            try {
                Socket server = new Socket(InetAddress.getLoopbackAddress(), serverPort);
                pool.execute(() -> pump(client, server, -1));
                pool.execute(() -> pump(server, client, act == Act.ANSWER_THEN_CLOSE ? PROBE_ANSWER : -1));
            } catch (IOException e) {
                quietly(client);
            }
        }
    }

    /** Copies {@code from} to {@code to}; after {@code limit} bytes (if not -1), or at the end, closes both. */
    private static void pump(Socket from, Socket to, int limit) {
        byte[] buf = new byte[16 * 1024];
        long copied = 0;
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buf, 0, limit < 0 ? buf.length : (int) Math.min(buf.length, limit - copied))) > 0) {
                out.write(buf, 0, n);
                out.flush();
                copied += n;
                if (limit >= 0 && copied >= limit) {
                    break;
                }
            }
        } catch (IOException ignored) {
            // the other direction closed the pair
        } finally {
            quietly(from);
            quietly(to);
        }
    }

    private static void quietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
    }
}
