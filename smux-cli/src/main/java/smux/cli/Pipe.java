package smux.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import smux.api.SmuxStream;

/**
 * Joins a TCP connection and a stream: bytes flow both ways, an end-of-stream on one side becomes
 * a half-close on the other, and when both directions are done (or either fails) both are closed.
 * A failure here ends this pair only, never the session.
 */
final class Pipe {
    private final Socket socket;
    private final SmuxStream stream;
    private final AtomicInteger open = new AtomicInteger(2);

    private Pipe(Socket socket, SmuxStream stream) {
        this.socket = socket;
        this.stream = stream;
    }

    static void start(Socket socket, SmuxStream stream, ExecutorService executor) {
        Pipe p = new Pipe(socket, stream);
        executor.execute(p::socketToStream);
        executor.execute(p::streamToSocket);
    }

    private void socketToStream() {
        try {
            copy(socket.getInputStream(), stream.outputStream());
            stream.closeWrite();
            done(false);
        } catch (IOException e) {
            done(true);
        }
    }

    private void streamToSocket() {
        try {
            copy(stream.inputStream(), socket.getOutputStream());
            socket.shutdownOutput();
            done(false);
        } catch (IOException e) {
            done(true);
        }
    }

    private static void copy(InputStream in, OutputStream out) throws IOException {
        byte[] buf = new byte[32 * 1024];
        int n;
        while ((n = in.read(buf)) >= 0) {
            out.write(buf, 0, n);
        }
    }

    private void done(boolean failed) {
        if (open.decrementAndGet() == 0 || failed) {
            stream.close();
            try {
                socket.close();
            } catch (IOException ignored) {
                // nothing left to do for this connection
            }
        }
    }
}
