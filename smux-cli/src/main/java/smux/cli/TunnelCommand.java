package smux.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
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

/**
 * {@code smux tunnel}: port forwarding over one smux session, kcptun-style. Each TCP connection
 * accepted by the client side becomes one stream; the server side opens a TCP connection to the
 * target for each stream and pipes the bytes. Streams carry raw bytes, so either side can be a Go
 * program that does the same with xtaci/smux.
 */
@Command(name = "tunnel", mixinStandardHelpOptions = true,
        description = "Forwards TCP connections over one smux session (kcptun-style).",
        subcommands = {TunnelCommand.Server.class, TunnelCommand.Client.class})
final class TunnelCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The far end: takes smux sessions and connects each stream to the target. */
    @Command(name = "server",
            description = "Accepts smux sessions on --listen; connects each stream to --target.")
    static final class Server implements Callable<Integer> {
        @Option(names = "--listen", required = true, paramLabel = "HOST:PORT", description = "Where tunnel clients connect.")
        String listen;

        @Option(names = "--target", required = true, paramLabel = "HOST:PORT", description = "Where each stream is forwarded.")
        String target;

        @Mixin
        SessionOptions session;

        @Override
        public Integer call() throws IOException {
            SmuxConfig config = session.config();
            InetSocketAddress to = SessionOptions.address(target);
            ExecutorService workers = Executors.newCachedThreadPool(Daemons.named("tunnel-server"));
            try (ServerSocketChannel listener = ServerSocketChannel.open().bind(SessionOptions.address(listen))) {
                Runtime.getRuntime().addShutdownHook(new Thread(() -> close(listener)));
                announce("tunnel server", listener.getLocalAddress(), "forwarding to " + target);
                while (listener.isOpen()) {
                    SocketChannel connection;
                    try {
                        connection = listener.accept();
                    } catch (IOException e) {
                        if (!listener.isOpen()) {
                            break;
                        }
                        continue;
                    }
                    workers.execute(() -> serveSession(connection, config, to, workers));
                }
            } finally {
                workers.shutdownNow();
            }
            return 0;
        }

        private static void serveSession(SocketChannel connection, SmuxConfig config, InetSocketAddress to, ExecutorService workers) {
            try (Session s = Smux.server(connection, config)) {
                while (true) {
                    SmuxStream stream = s.acceptStream();
                    workers.execute(() -> {
                        Socket out = new Socket();
                        try {
                            out.connect(to, 10_000);
                            out.setTcpNoDelay(true);
                        } catch (IOException e) {
                            System.err.println("tunnel: cannot reach " + to + " for stream " + stream.id() + ": " + Main.describe(e));
                            stream.close();
                            close(out);
                            return;
                        }
                        Pipe.start(out, stream, workers);
                    });
                }
            } catch (SessionClosedException e) {
                System.err.println("tunnel: session from " + remote(connection) + " ended: " + e.getMessage());
            } catch (IOException e) {
                System.err.println("tunnel: session from " + remote(connection) + " failed: " + Main.describe(e));
            }
        }
    }

    /** The near end: accepts local TCP connections and carries each over one smux session. */
    @Command(name = "client",
            description = "Accepts TCP connections on --listen; carries each as a stream to the tunnel --server.")
    static final class Client implements Callable<Integer> {
        @Option(names = "--listen", required = true, paramLabel = "HOST:PORT", description = "Where local applications connect.")
        String listen;

        @Option(names = "--server", required = true, paramLabel = "HOST:PORT", description = "The tunnel server.")
        String server;

        @Mixin
        SessionOptions session;

        private Session current;

        @Override
        public Integer call() throws IOException {
            SmuxConfig config = session.config();
            InetSocketAddress serverAddress = SessionOptions.address(server);
            ExecutorService workers = Executors.newCachedThreadPool(Daemons.named("tunnel-client"));
            try (ServerSocket listener = new ServerSocket()) {
                listener.bind(SessionOptions.address(listen));
                session(serverAddress, config); // fail fast if the server is not there
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    close(listener);
                    closeSession();
                }));
                announce("tunnel client", listener.getLocalSocketAddress(), "via " + server);
                while (!listener.isClosed()) {
                    Socket local;
                    try {
                        local = listener.accept();
                        local.setTcpNoDelay(true);
                    } catch (IOException e) {
                        if (listener.isClosed()) {
                            break;
                        }
                        continue;
                    }
                    try {
                        SmuxStream stream = session(serverAddress, config).openStream();
                        Pipe.start(local, stream, workers);
                    } catch (IOException e) {
                        System.err.println("tunnel: cannot open a stream to " + server + ": " + Main.describe(e));
                        close(local);
                    }
                }
            } finally {
                closeSession();
                workers.shutdownNow();
            }
            return 0;
        }

        /** The session to the server; a new one if the last has ended. */
        private synchronized Session session(InetSocketAddress to, SmuxConfig config) throws IOException {
            if (current == null || current.isClosed()) {
                current = Smux.connect(to, config);
            }
            return current;
        }

        private synchronized void closeSession() {
            if (current != null) {
                current.close();
            }
        }
    }

    static void announce(String what, Object address, String detail) {
        InetSocketAddress a = (InetSocketAddress) address;
        System.out.println(what + " listening on " + a.getHostString() + ":" + a.getPort() + " " + detail);
        System.out.flush();
    }

    static String remote(SocketChannel c) {
        try {
            return String.valueOf(c.getRemoteAddress());
        } catch (IOException e) {
            return "?";
        }
    }

    static void close(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // shutting down
        }
    }
}
