package smux.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicLong;

/** The TCP ends of a tunnel test: targets to forward to, and clients that check what comes back. */
final class Targets {
    private Targets() {
    }

    /** A loopback server that echoes every connection until the socket is closed. */
    static ServerSocket echo(ExecutorService pool) throws IOException {
        ServerSocket target = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        pool.execute(() -> {
            while (!target.isClosed()) {
                try {
                    Socket s = target.accept();
                    pool.execute(() -> {
                        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                            in.transferTo(out);
                        } catch (IOException ignored) {
                            // a reset connection, as some tests intend
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
        return target;
    }

    /**
     * A loopback server that sends {@code chunks} pseudo-random chunks of {@code chunk} bytes to each
     * connection, pausing {@code pauseMillis} between them, then closes it: a transfer that is
     * reliably still in flight a moment after it started.
     */
    static ServerSocket slowSender(ExecutorService pool, int chunks, int chunk, long pauseMillis) throws IOException {
        ServerSocket target = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        pool.execute(() -> {
            while (!target.isClosed()) {
                try {
                    Socket s = target.accept();
                    pool.execute(() -> {
                        try (s; OutputStream out = s.getOutputStream()) {
                            byte[] data = data(chunks * chunk, 42);
                            for (int i = 0; i < chunks; i++) {
                                out.write(data, i * chunk, chunk);
                                Thread.sleep(pauseMillis);
                            }
                        } catch (IOException | InterruptedException ignored) {
                            // the test ended
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
        return target;
    }

    /** Reads a connection to its end, counting as it goes (so a test can act mid-transfer). @return the SHA-256 */
    static String receive(Socket s, AtomicLong received) throws IOException {
        MessageDigest d = digest();
        byte[] buf = new byte[64 * 1024];
        InputStream in = s.getInputStream();
        int n;
        while ((n = in.read(buf)) >= 0) {
            d.update(buf, 0, n);
            received.addAndGet(n);
        }
        return HexFormat.of().formatHex(d.digest());
    }

    /** Sends {@code size} seeded bytes through an echo at {@code port}. @return whether they came back intact */
    static boolean roundTrip(int port, int size, long seed) throws Exception {
        byte[] data = data(size, seed);
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(60_000);
            Thread writer = new Thread(() -> {
                try {
                    s.getOutputStream().write(data);
                    s.shutdownOutput();
                } catch (IOException ignored) {
                    // the read side reports the failure
                }
            });
            writer.start();
            byte[] back = s.getInputStream().readAllBytes();
            writer.join();
            return sha(back).equals(sha(data));
        }
    }

    static byte[] data(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    static String sha(byte[] b) {
        return HexFormat.of().formatHex(digest().digest(b));
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
