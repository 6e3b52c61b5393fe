package smux.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The hostile peer of issue 14: over one connection it opens {@code streams} streams, sends
 * {@code bytesPerStream} on each (all a version 2 sender may send before any window update is
 * 256 KiB), and never reads its socket. Raw frames, so nothing on this side buffers or answers.
 */
final class Flood implements AutoCloseable {
    private final Socket socket;

    private Flood(Socket socket) {
        this.socket = socket;
    }

    /**
     * Connects and sends the flood from a thread of its own; returns when it is sent, or after a
     * few seconds if the server stops reading the connection first (its defence against a peer
     * that reads none of its answers). The connection stays open until {@link #close}.
     */
    static Flood start(int port, int streams, int bytesPerStream) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        s.setReceiveBufferSize(4096); // and never read: the server's writes back pile up on its side
        Thread writer = new Thread(() -> {
            try {
                send(s.getOutputStream(), streams, bytesPerStream);
            } catch (IOException e) {
                // the server closed the connection: what it may do to a hostile peer
            }
        }, "flood-writer");
        writer.setDaemon(true);
        writer.start();
        try {
            writer.join(WRITE_LIMIT_MILLIS);
        } catch (InterruptedException e) {
            s.close();
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while flooding");
        }
        return new Flood(s);
    }

    private static final long WRITE_LIMIT_MILLIS = 5_000;

    private static void send(OutputStream out, int streams, int bytesPerStream) throws IOException {
        byte[] payload = new byte[32 * 1024];
        for (int i = 0; i < streams; i++) {
            int id = 3 + 2 * i;
            out.write(header(0, id, 0)); // SYN
            for (int sent = 0; sent < bytesPerStream; sent += payload.length) {
                int n = Math.min(payload.length, bytesPerStream - sent);
                out.write(header(2, id, n)); // PSH
                out.write(payload, 0, n);
            }
        }
        out.flush();
    }

    private static byte[] header(int cmd, int id, int length) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
                .put((byte) 2).put((byte) cmd).putShort((short) length).putInt(id).array();
    }

    /** @return the local port, by which the server's log names this peer */
    int localPort() {
        return socket.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /** For measuring by hand: {@code Flood PORT CONNECTIONS STREAMS BYTES}; holds the connections until killed. */
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        int connections = Integer.parseInt(args[1]);
        java.util.List<Flood> all = new java.util.ArrayList<>();
        for (int c = 0; c < connections; c++) {
            try {
                all.add(start(port, Integer.parseInt(args[2]), Integer.parseInt(args[3])));
                System.out.println("flood connection " + (c + 1) + " sent");
            } catch (IOException e) {
                System.out.println("flood connection " + (c + 1) + " failed: " + e);
            }
        }
        Thread.sleep(Long.MAX_VALUE);
    }
}
