package smux.it.toxi;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A plain blocking TCP echo server on a free loopback port, one thread per connection, for use as a proxy
 * upstream. It counts what it received so tests can await "the bytes reached the server" instead of sleeping.
 * Errors on a connection (resets from toxics) just end that connection.
 */
public final class EchoServer implements AutoCloseable {

    private final ServerSocket serverSocket;
    private final Set<Socket> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong bytesReceived = new AtomicLong();
    private final AtomicInteger accepted = new AtomicInteger();
    private volatile boolean closed;

    private EchoServer(ServerSocket serverSocket) {
        this.serverSocket = serverSocket;
    }

    public static EchoServer start() throws IOException {
        ServerSocket socket = new ServerSocket();
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        EchoServer server = new EchoServer(socket);
        Thread acceptor = new Thread(server::acceptLoop, "echo-accept-" + socket.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
        return server;
    }

    /** Loopback host the server listens on, as a literal. */
    public String host() {
        return serverSocket.getInetAddress().getHostAddress();
    }

    public int port() {
        return serverSocket.getLocalPort();
    }

    public InetSocketAddress address() {
        return new InetSocketAddress(serverSocket.getInetAddress(), serverSocket.getLocalPort());
    }

    /** Bytes received on all connections so far. */
    public long bytesReceived() {
        return bytesReceived.get();
    }

    /** Connections accepted so far. */
    public int connectionsAccepted() {
        return accepted.get();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket socket;
            try {
                socket = serverSocket.accept();
            } catch (IOException e) {
                return; // closed
            }
            accepted.incrementAndGet();
            connections.add(socket);
            Thread worker = new Thread(() -> echo(socket), "echo-" + socket.getPort());
            worker.setDaemon(true);
            worker.start();
        }
    }

    private void echo(Socket socket) {
        byte[] buffer = new byte[16 * 1024];
        try (socket; InputStream in = socket.getInputStream(); OutputStream out = socket.getOutputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                bytesReceived.addAndGet(n);
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException connectionEnded) {
            // reset or closed by the proxy: normal under fault injection
        } finally {
            connections.remove(socket);
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        serverSocket.close();
        for (Socket socket : connections) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }
}
