package smux.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import smux.api.Session;
import smux.api.SessionClosedException;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;

/** {@code smux serve}: an smux server to try clients and peers against. */
@Command(name = "serve",
        description = {"Runs an smux server: every stream of every session is echoed or discarded.",
                "Prints one line per session that ends, saying how; a misbehaving peer never stops the others."})
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--listen", paramLabel = "HOST:PORT", required = true, description = "Where to listen (port 0: any free port).")
    String listen;

    @Option(names = "--mode", paramLabel = "echo|discard", defaultValue = "echo", description = "What to do with each stream (default: ${DEFAULT-VALUE}).")
    Mode mode;

    @Mixin
    SessionOptions session;

    enum Mode { echo, discard }

    @Override
    public Integer call() throws IOException {
        SmuxConfig config = session.config();
        ExecutorService workers = Executors.newCachedThreadPool(Daemons.named("serve-worker"));
        try (ServerSocketChannel listener = ServerSocketChannel.open().bind(SessionOptions.address(listen))) {
            InetSocketAddress bound = (InetSocketAddress) listener.getLocalAddress();
            System.out.println("listening on " + bound.getHostString() + ":" + bound.getPort() + " (mode " + mode
                    + ", version " + config.version() + ")");
            System.out.flush();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> closeQuietly(listener)));
            while (listener.isOpen()) {
                SocketChannel connection;
                try {
                    connection = listener.accept();
                } catch (IOException e) {
                    if (!listener.isOpen()) {
                        break;
                    }
                    System.err.println("smux serve: accept failed: " + Main.describe(e));
                    continue;
                }
                workers.execute(() -> serveSession(connection, config, workers));
            }
        } finally {
            workers.shutdownNow();
        }
        return 0;
    }

    private void serveSession(SocketChannel connection, SmuxConfig config, ExecutorService workers) {
        String peer;
        try {
            peer = String.valueOf(connection.getRemoteAddress());
        } catch (IOException e) {
            peer = "?";
        }
        Session s;
        try {
            s = Smux.server(connection, config);
        } catch (IOException e) {
            System.out.println("session " + peer + " ended: could not start: " + Main.describe(e));
            return;
        }
        try (s) {
            while (true) {
                SmuxStream stream = s.acceptStream();
                workers.execute(() -> serveStream(stream));
            }
        } catch (SessionClosedException e) {
            System.out.println("session " + peer + " ended: " + describeEnd(s, e));
        } catch (IOException e) {
            System.out.println("session " + peer + " ended: " + Main.describe(e));
        }
        System.out.flush();
    }

    static String describeEnd(Session s, SessionClosedException e) {
        return s.closeCause().map(Throwable::getMessage).orElse(e.getMessage());
    }

    private void serveStream(SmuxStream stream) {
        try (stream; InputStream in = stream.inputStream()) {
            if (mode == Mode.echo) {
                OutputStream out = stream.outputStream();
                in.transferTo(out);
                stream.closeWrite();
            } else {
                in.transferTo(OutputStream.nullOutputStream());
            }
        } catch (IOException e) {
            // this stream ends; the session goes on (its end is reported by the accept loop)
        }
    }

    private static void closeQuietly(ServerSocketChannel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // shutting down
        }
    }
}
