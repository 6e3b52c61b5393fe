package smux.it.contract;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A peer that speaks raw bytes: it writes hand-made frames (right or wrong) and reads whatever
 * comes back, to test a session against a misbehaving or silent other end.
 */
final class RawPeer implements AutoCloseable {
    final Socket socket;
    final InputStream in;
    final OutputStream out;

    private RawPeer(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /** Connects to a listening address (the raw peer is the client). */
    static RawPeer connect(InetSocketAddress address) throws IOException {
        return new RawPeer(new Socket(address.getAddress(), address.getPort()));
    }

    /** Accepts one connection on {@code listener} (the raw peer is the server). */
    static RawPeer accept(ServerSocket listener) throws IOException {
        return new RawPeer(listener.accept());
    }

    static ServerSocket listen() throws IOException {
        return new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    }

    /** Builds one frame: header fields as given, then the payload. */
    static byte[] frame(int ver, int cmd, int length, int streamId, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(8 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) ver).put((byte) cmd).putShort((short) length).putInt(streamId).put(payload);
        return b.array();
    }

    static byte[] frame(int ver, int cmd, int streamId, byte[] payload) {
        return frame(ver, cmd, payload.length, streamId, payload);
    }

    static byte[] pair(int a, int b) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(a).putInt(b).array();
    }

    void send(byte[]... frames) throws IOException {
        for (byte[] f : frames) {
            out.write(f);
        }
        out.flush();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
