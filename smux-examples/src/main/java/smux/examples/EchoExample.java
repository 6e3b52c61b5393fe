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
 * over one connection and prints what comes back. Build it, then run it on the module path (from
 * the root of the project; README.md gives the same two commands, and {@code ExampleIT} runs the
 * second as written):
 *
 * <pre>
 * mvn -B -ntp -q -pl smux-examples -am package -DskipTests
 * java --module-path smux-examples/target/smux-examples-0.1.0-SNAPSHOT.jar:smux-examples/target/lib -m smux.examples/smux.examples.EchoExample
 * </pre>
 *
 * The module requires {@code smux.api} only; {@code java} finds the transports in
 * {@code target/lib} because {@code smux.api} declares {@code uses TransportProvider}.
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
