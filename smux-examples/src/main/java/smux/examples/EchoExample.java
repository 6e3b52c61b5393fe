package smux.examples;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import smux.api.Session;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;

/**
 * A complete client and server: the server echoes every stream; the client opens three streams
 * over one connection and prints what comes back. Run it with
 * {@code mvn -q -pl smux-examples -am install exec:java -DskipTests}.
 */
public final class EchoExample {
    private EchoExample() {
    }

    /**
     * Runs the server and the client in one process over loopback.
     *
     * @param args ignored
     * @throws Exception if anything fails
     */
    public static void main(String[] args) throws Exception {
        SmuxConfig config = SmuxConfig.defaults();
        try (ServerSocketChannel listener = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            Thread server = new Thread(() -> serve(listener, config), "echo-server");
            server.setDaemon(true);
            server.start();

            // --- client: one TCP connection, many streams
            try (Session session = Smux.connect(listener.getLocalAddress(), config)) {
                for (int i = 1; i <= 3; i++) {
                    try (SmuxStream stream = session.openStream()) {
                        byte[] message = ("hello from stream " + stream.id()).getBytes(StandardCharsets.UTF_8);
                        stream.outputStream().write(message);
                        stream.closeWrite(); // half-close: the server's read reaches end-of-stream
                        byte[] echo = stream.inputStream().readAllBytes();
                        System.out.println("stream " + stream.id() + " echoed: " + new String(echo, StandardCharsets.UTF_8));
                    }
                }
                System.out.println("transport: " + session.transport() + ", " + session.stats());
            }
        }
    }

    /** The server: one session per accepted connection, one echo per stream. */
    static void serve(ServerSocketChannel listener, SmuxConfig config) {
        try (SocketChannel connection = listener.accept();
             Session session = Smux.server(connection, config)) {
            while (true) {
                SmuxStream stream = session.acceptStream();
                Thread echo = new Thread(() -> echo(stream), "echo-" + stream.id());
                echo.setDaemon(true);
                echo.start();
            }
        } catch (IOException e) {
            // the client closed the session: the server is done
        }
    }

    private static void echo(SmuxStream stream) {
        try (stream; InputStream in = stream.inputStream(); OutputStream out = stream.outputStream()) {
            in.transferTo(out);
        } catch (IOException e) {
            System.err.println("echo on stream " + stream.id() + " failed: " + e);
        }
    }
}
