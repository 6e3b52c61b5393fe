package smux.it.toxi;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waits until a toxiproxy-server we just started (a child process, or a container on the host network) answers
 * on its API port, and proves the answer came from it.
 *
 * <p>The probe {@code GET /version?probe=<random marker>} is logged by the server at debug level, so the
 * server must run with {@code LOG_LEVEL=debug} and its output must be appended to {@code log}: an answer
 * counts only once the marker shows up there, so a stranger that grabbed the port cannot pass for our server.
 * toxiproxy-server logs {@value #LISTEN_FAILED} and keeps running when its API port is taken: that becomes a
 * {@link PortTakenException}, on which the caller picks another port.
 */
final class ApiReadiness {

    static final long READY_TIMEOUT_MILLIS = 30_000;
    private static final String LISTEN_FAILED = "Server finished with error";

    private ApiReadiness() {
    }

    /**
     * Polls until the server answers on {@code 127.0.0.1:port}.
     *
     * @param what the server, for messages ("toxiproxy-server", "the Toxiproxy container")
     * @param log the file the server's output is appended to
     * @param logOffset where this start's output begins in {@code log}
     * @param alive whether the server still runs
     * @param deathReason why it stopped, asked once {@code alive} says false
     */
    static void await(String what, int port, Path log, long logOffset, BooleanSupplier alive,
            Supplier<String> deathReason) throws IOException {
        String marker = "smux-it-ready-" + UUID.randomUUID();
        URL url = new URL("http://127.0.0.1:" + port + "/version?probe=" + marker);
        long deadline = System.nanoTime() + READY_TIMEOUT_MILLIS * 1_000_000;
        boolean answered = false;
        while (System.nanoTime() < deadline) {
            String output = readFrom(log, logOffset);
            if (output.contains(LISTEN_FAILED)) {
                throw new PortTakenException(what + " could not listen on 127.0.0.1:" + port + ":\n" + output);
            }
            if (!alive.getAsBoolean()) {
                throw new IllegalStateException(what + " " + deathReason.get() + " before its API answered; its output ("
                        + log + "):\n" + output);
            }
            answered = answered || versionAnswers(url);
            if (answered && readFrom(log, logOffset).contains(marker)) {
                return;
            }
            pause(what);
        }
        throw new IllegalStateException(what + " did not answer on 127.0.0.1:" + port + " within "
                + READY_TIMEOUT_MILLIS + " ms; its output (" + log + "):\n" + readFrom(log, logOffset));
    }

    private static boolean versionAnswers(URL url) {
        try {
            HttpURLConnection connection = (HttpURLConnection) url.openConnection();
            connection.setConnectTimeout(1_000);
            connection.setReadTimeout(2_000);
            try {
                if (connection.getResponseCode() != 200) {
                    return false;
                }
                try (InputStream in = connection.getInputStream()) {
                    in.readAllBytes();
                }
                return true;
            } finally {
                connection.disconnect();
            }
        } catch (IOException notYet) {
            return false;
        }
    }

    /** A port free on loopback now; the server may still lose it to another process (see PortTakenException). */
    static int freeLoopbackPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    static String readFrom(Path log, long offset) throws IOException {
        if (!Files.exists(log)) {
            return "";
        }
        byte[] all = Files.readAllBytes(log);
        return offset >= all.length ? "" : new String(all, (int) offset, all.length - (int) offset,
                StandardCharsets.UTF_8);
    }

    private static void pause(String what) {
        try {
            Thread.sleep(20); // bounded poll interval of await, not synchronisation on an event
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + what, e);
        }
    }

    /** The API port was taken by another process before the server could bind it. */
    static final class PortTakenException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        PortTakenException(String message) {
            super(message);
        }
    }
}
