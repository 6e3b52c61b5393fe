package smux.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import smux.api.SmuxStream;

/**
 * Joins a TCP connection and a stream: bytes flow both ways, an end-of-stream on one side becomes
 * a half-close on the other, and when both directions are done (or either fails, or stays idle
 * past the idle timeout) both are closed and {@code onDone} runs. A failure here ends this pair
 * only, never the session.
 */
final class Pipe {
    private final Socket socket;
    private final SmuxStream stream;
    private final Runnable onDone;
    private final AtomicInteger open = new AtomicInteger(2);
    private final AtomicBoolean closed = new AtomicBoolean();

    private Pipe(Socket socket, SmuxStream stream, Runnable onDone) {
        this.socket = socket;
        this.stream = stream;
        this.onDone = onDone;
    }

    /**
     * Starts both directions on {@code workers}. If they cannot both start, closes the pair, runs
     * {@code onDone} and rethrows.
     *
     * @param idle how long a direction may wait for bytes, or to hand them on; zero for no limit
     */
    static void start(Socket socket, SmuxStream stream, Workers workers, Duration idle, Runnable onDone) {
        Pipe p = new Pipe(socket, stream, onDone);
        try {
            if (!idle.isZero()) {
                stream.setReadTimeout(idle);
                stream.setWriteTimeout(idle);
                socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, idle.toMillis()));
            }
            workers.execute(p::socketToStream);
            workers.execute(p::streamToSocket); // if this fails, the first direction meets the closed pair and ends
        } catch (IOException e) {
            p.done(true);
            throw new java.io.UncheckedIOException(e);
        } catch (RuntimeException | Error e) {
            p.done(true);
            throw e;
        }
    }

    private void socketToStream() {
        pump(() -> {
            copy(socket.getInputStream(), stream.outputStream());
            stream.closeWrite();
        });
    }

    private void streamToSocket() {
        pump(() -> {
            copy(stream.inputStream(), socket.getOutputStream());
            socket.shutdownOutput();
        });
    }

    /** One direction: copy to end-of-stream and half-close the other side. */
    private interface Direction {
        void run() throws IOException;
    }

    private void pump(Direction direction) {
        try {
            direction.run();
            done(false);
        } catch (IOException | RuntimeException e) {
            done(true);
        } catch (Error e) {
            failed(e);
        }
    }

    private void failed(Error e) {
        done(true);
        if (e instanceof OutOfMemoryError) {
            Server.onOutOfMemory(); // the session that buffers the most is closed
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
        if ((failed || open.decrementAndGet() == 0) && closed.compareAndSet(false, true)) {
            stream.close();
            Server.close(socket);
            onDone.run();
        }
    }
}
