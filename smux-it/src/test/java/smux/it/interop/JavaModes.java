package smux.it.interop;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.Executor;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import smux.api.SmuxStream;
import smux.it.interop.Content.Tally;

/**
 * The Java side of the Go peer's modes ({@code interop/README.md}, "Modes"), through {@code smux.api}
 * only: the server handlers a Go client drives, and the client drivers that drive a Go server. Each
 * counts and hashes both directions of its stream, like the Go peer's {@code stream} event, so the two
 * sides can be compared stream by stream.
 */
final class JavaModes {
    static final int IO_BUFFER = 64 * 1024;
    static final byte[] HELLO = "hello smux".getBytes(US_ASCII);
    static final byte[] WORLD = "world".getBytes(US_ASCII);
    static final int SCRIPT_PAYLOAD = 70_000;
    private static final long WRITER_JOIN_SECONDS = 60;

    private JavaModes() {
    }

    /** One stream as the Java side saw it; {@code error} is null on success. */
    record Result(long id, long bytesIn, long bytesOut, String sha256In, String sha256Out, String error) {
        boolean ok() {
            return error == null;
        }
    }

    /** What a handler or driver does with its stream, counting what it reads and writes. */
    interface Body {
        void run(SmuxStream stream, Tally in, Tally out) throws Exception;
    }

    /** Called with the stream id before a reader reads its first byte (e.g. to let a window fill up). */
    interface Gate {
        Gate NONE = id -> { };

        void await(long streamId) throws Exception;
    }

    /** Runs {@code body} on {@code stream}, closes the stream and reports what happened. */
    static Result run(SmuxStream stream, boolean hash, Body body) {
        Tally in = new Tally(hash);
        Tally out = new Tally(hash);
        String error = null;
        try {
            body.run(stream, in, out);
        } catch (Throwable t) {
            error = describe(t);
        } finally {
            stream.close();
        }
        return new Result(Integer.toUnsignedLong(stream.id()), in.count(), out.count(), in.hex(), out.hex(), error);
    }

    static String describe(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        String trace = w.toString();
        return trace.length() > 2000 ? trace.substring(0, 2000) + "..." : trace;
    }

    // ------------------------------------------------------------------ server handlers

    /** Copies the stream back until the peer's FIN, then closes. */
    static Body echoServer() {
        return (s, in, out) -> {
            InputStream r = s.inputStream();
            OutputStream w = s.outputStream();
            byte[] buf = new byte[IO_BUFFER];
            int n;
            while ((n = r.read(buf)) >= 0) {
                in.add(buf, 0, n);
                w.write(buf, 0, n);
                out.add(buf, 0, n);
            }
        };
    }

    /** Reads to the peer's FIN (after {@code gate}), then closes. */
    static Body discardServer(Gate gate) {
        return (s, in, out) -> {
            gate.await(Integer.toUnsignedLong(s.id()));
            readToEnd(s.inputStream(), in, null, 0);
        };
    }

    /** Reads the 8-byte big-endian request, sends that many pattern bytes, closes. */
    static Body sourceServer() {
        return (s, in, out) -> {
            long n = readLengthPrefix(s.inputStream());
            writeContent(s.outputStream(), Content.pattern(), n, out, IO_BUFFER);
        };
    }

    /** Reads the 8-byte length and that many bytes, answers their SHA-256, closes. */
    static Body checksumServer() {
        return (s, in, out) -> {
            InputStream r = s.inputStream();
            long n = readLengthPrefix(r);
            byte[] buf = new byte[IO_BUFFER];
            long got = 0;
            while (got < n) {
                int k = r.read(buf, 0, (int) Math.min(buf.length, n - got));
                if (k < 0) {
                    throw new EOFException("checksum payload ended after " + got + " of " + n + " bytes");
                }
                in.add(buf, 0, k);
                got += k;
            }
            byte[] digest = HexFormat.of().parseHex(in.hex());
            s.outputStream().write(digest);
            out.add(digest, 0, digest.length);
        };
    }

    /** The script of the 1.5.16 vectors, server side (as the Go peer's {@code script} mode). */
    static Body scriptServer() {
        return (s, in, out) -> {
            InputStream r = s.inputStream();
            byte[] hello = readExactly(r, HELLO.length, in);
            if (!Arrays.equals(hello, HELLO)) {
                throw new IOException("script step 2: got " + new String(hello, US_ASCII));
            }
            s.outputStream().write(WORLD);
            out.add(WORLD, 0, WORLD.length);
            byte[] payload = readExactly(r, SCRIPT_PAYLOAD, in);
            int bad = Content.pattern().firstMismatch(0, payload, 0, payload.length, new byte[IO_BUFFER]);
            if (bad >= 0) {
                throw new IOException("script step 4: payload differs at offset " + bad);
            }
            long extra = readToEnd(r, in, null, 0);
            if (extra != 0) {
                throw new IOException("script step 5: " + extra + " unexpected bytes before FIN");
            }
        };
    }

    // ------------------------------------------------------------------ client drivers

    /**
     * Writes {@code size} bytes of {@code content} (on a thread of {@code pool}, which must not queue
     * it behind a blocked task) while reading the echo and checking it byte for byte. With {@code halfClose}: closeWrite after the data, then read to the peer's FIN; without:
     * stop reading once everything came back (the stream is then closed by {@link #run}).
     */
    static Body echoClient(Content content, long size, boolean halfClose, Executor pool) {
        return (s, in, out) -> {
            FutureTask<Void> writer = new FutureTask<>(() -> {
                writeContent(s.outputStream(), content, size, out, IO_BUFFER);
                if (halfClose) {
                    s.closeWrite();
                }
                return null;
            });
            pool.execute(writer);
            try {
                InputStream r = s.inputStream();
                byte[] buf = new byte[IO_BUFFER];
                byte[] scratch = new byte[IO_BUFFER];
                long got = 0;
                while (halfClose || got < size) {
                    int n = r.read(buf);
                    if (n < 0) {
                        break;
                    }
                    int bad = content.firstMismatch(got, buf, 0, n, scratch);
                    if (bad >= 0) {
                        throw new IOException("echo differs at offset " + (got + bad) + " of " + size);
                    }
                    in.add(buf, 0, n);
                    got += n;
                }
                if (got != size) {
                    throw new IOException("echo: " + got + " bytes came back, " + size + " sent");
                }
                writer.get(WRITER_JOIN_SECONDS, TimeUnit.SECONDS);
            } catch (Exception e) {
                s.close();
                writer.cancel(true);
                throw e;
            }
        };
    }

    /** Writes {@code size} bytes; with {@code halfClose} then closeWrite and wait for the peer's FIN (no data). */
    static Body discardClient(Content content, long size, boolean halfClose) {
        return (s, in, out) -> {
            writeContent(s.outputStream(), content, size, out, IO_BUFFER);
            if (halfClose) {
                s.closeWrite();
                long extra = readToEnd(s.inputStream(), in, null, 0);
                if (extra != 0) {
                    throw new IOException(extra + " unexpected bytes before the peer's FIN");
                }
            }
        };
    }

    /** Asks a source server for {@code size} bytes (-source-request) and checks the pattern and the count. */
    static Body sourceClient(long size, Gate gate) {
        return (s, in, out) -> {
            writeLengthPrefix(s.outputStream(), size);
            gate.await(Integer.toUnsignedLong(s.id()));
            long got = readToEnd(s.inputStream(), in, Content.pattern(), 0);
            if (got != size) {
                throw new IOException("source: got " + got + " bytes, asked for " + size);
            }
        };
    }

    /** Sends the length and the payload, reads the 32-byte digest, compares, waits for the server's FIN. */
    static Body checksumClient(Content content, long size) {
        return (s, in, out) -> {
            writeLengthPrefix(s.outputStream(), size);
            writeContent(s.outputStream(), content, size, out, IO_BUFFER);
            byte[] digest = readExactly(s.inputStream(), 32, in);
            String mine = out.hex();
            if (!HexFormat.of().formatHex(digest).equals(mine)) {
                throw new IOException("checksum: peer says " + HexFormat.of().formatHex(digest) + ", sent " + mine);
            }
            long extra = readToEnd(s.inputStream(), in, null, 0);
            if (extra != 0) {
                throw new IOException(extra + " unexpected bytes after the digest");
            }
        };
    }

    /** The script, client side; with {@code halfClose} it ends with closeWrite and waits for the server's FIN. */
    static Body scriptClient(boolean halfClose) {
        return (s, in, out) -> {
            s.outputStream().write(HELLO);
            out.add(HELLO, 0, HELLO.length);
            byte[] world = readExactly(s.inputStream(), WORLD.length, in);
            if (!Arrays.equals(world, WORLD)) {
                throw new IOException("script step 3: got " + new String(world, US_ASCII));
            }
            writeContent(s.outputStream(), Content.pattern(), SCRIPT_PAYLOAD, out, IO_BUFFER);
            if (halfClose) {
                s.closeWrite();
                long extra = readToEnd(s.inputStream(), in, null, 0);
                if (extra != 0) {
                    throw new IOException(extra + " unexpected bytes before the server's FIN");
                }
            }
        };
    }

    // ------------------------------------------------------------------ I/O helpers

    static void writeContent(OutputStream w, Content content, long size, Tally out, int writeSize) throws IOException {
        byte[] buf = new byte[(int) Math.min(writeSize, Math.max(1, size))];
        long sent = 0;
        while (sent < size) {
            int n = (int) Math.min(buf.length, size - sent);
            content.fill(sent, buf, 0, n);
            w.write(buf, 0, n);
            out.add(buf, 0, n);
            sent += n;
        }
    }

    /** Reads to end of stream, checking against {@code verify} (if any) from {@code position}; returns the count. */
    static long readToEnd(InputStream r, Tally in, Content verify, long position) throws IOException {
        byte[] buf = new byte[IO_BUFFER];
        byte[] scratch = verify == null ? null : new byte[IO_BUFFER];
        long got = 0;
        int n;
        while ((n = r.read(buf)) >= 0) {
            if (verify != null) {
                int bad = verify.firstMismatch(position + got, buf, 0, n, scratch);
                if (bad >= 0) {
                    throw new IOException("data differs at offset " + (position + got + bad));
                }
            }
            in.add(buf, 0, n);
            got += n;
        }
        return got;
    }

    static byte[] readExactly(InputStream r, int len, Tally in) throws IOException {
        byte[] b = new byte[len];
        int got = 0;
        while (got < len) {
            int n = r.read(b, got, len - got);
            if (n < 0) {
                throw new EOFException("stream ended after " + got + " of " + len + " bytes");
            }
            got += n;
        }
        in.add(b, 0, len);
        return b;
    }

    static long readLengthPrefix(InputStream r) throws IOException {
        byte[] b = readExactly(r, 8, new Tally(false));
        return ByteBuffer.wrap(b).getLong();
    }

    static void writeLengthPrefix(OutputStream w, long n) throws IOException {
        w.write(ByteBuffer.allocate(8).putLong(n).array());
    }
}
