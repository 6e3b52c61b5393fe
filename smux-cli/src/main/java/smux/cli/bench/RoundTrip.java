package smux.cli.bench;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import org.HdrHistogram.Histogram;
import smux.api.Session;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;

/**
 * Small-message round trip: the client writes a 64-byte request, the server reads it whole and
 * writes it back, the client reads the 64-byte response; one round trip at a time on one stream
 * (or one raw TCP connection), timed with {@link System#nanoTime()} into an HdrHistogram.
 */
final class RoundTrip {
    static final int MESSAGE = 64;

    private RoundTrip() {
    }

    /** The figures of one case, in microseconds. */
    record Result(String transport, long count, double p50Micros, double p99Micros, double meanMicros, String error) {
        static Result of(String transport, Histogram h, String error) {
            if (h.getTotalCount() == 0) {
                return new Result(transport, 0, Double.NaN, Double.NaN, Double.NaN, error);
            }
            return new Result(transport, h.getTotalCount(), h.getValueAtPercentile(50) / 1e3,
                    h.getValueAtPercentile(99) / 1e3, h.getMean() / 1e3, error);
        }
    }

    /** Raw TCP: one loopback connection with TCP_NODELAY, as smux sets on its connection. */
    static Result raw(Duration ramp, Duration measure) throws Exception {
        Workers workers = new Workers("rtt-raw");
        Histogram h = new Histogram(3);
        String error = null;
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             Socket client = new Socket()) {
            client.setTcpNoDelay(true);
            client.connect(listener.getLocalSocketAddress(), 10_000);
            Socket server = listener.accept();
            server.setTcpNoDelay(true);
            try (server) {
                workers.start("echo", () -> echo(server::getInputStream, server::getOutputStream));
                error = pingPong(client.getInputStream(), client.getOutputStream(), ramp, measure, h);
            }
        } finally {
            workers.joinAll(5_000);
        }
        return Result.of("raw", h, error);
    }

    /** One stream of a loopback smux session pair. */
    static Result smux(SmuxConfig config, Duration ramp, Duration measure) throws Exception {
        Workers workers = new Workers("rtt-" + config.transport().orElse("smux"));
        Histogram h = new Histogram(3);
        String error;
        Session[] pair = Load.LoopbackPair.open(config);
        try {
            SmuxStream c = pair[0].openStream();
            c.outputStream().write(new byte[MESSAGE]); // the SYN and a first message make the stream known
            SmuxStream s = pair[1].acceptStream(Duration.ofSeconds(10));
            readFully(s.inputStream(), new byte[MESSAGE]);
            workers.start("echo", () -> echo(s::inputStream, s::outputStream));
            error = pingPong(c.inputStream(), c.outputStream(), ramp, measure, h);
        } finally {
            pair[0].close();
            pair[1].close();
            workers.joinAll(5_000);
        }
        return Result.of(config.transport().orElse("smux"), h, error);
    }

    private interface Source<T> {
        T get() throws IOException;
    }

    private static void echo(Source<InputStream> in, Source<OutputStream> out) {
        byte[] buf = new byte[MESSAGE];
        try {
            InputStream i = in.get();
            OutputStream o = out.get();
            while (true) {
                readFully(i, buf);
                o.write(buf);
            }
        } catch (IOException | RuntimeException e) {
            // the client closed: the case is over
        }
    }

    /** @return null, or what went wrong */
    private static String pingPong(InputStream in, OutputStream out, Duration ramp, Duration measure, Histogram h) {
        byte[] request = new byte[MESSAGE];
        byte[] response = new byte[MESSAGE];
        long start = System.nanoTime();
        long recordFrom = start + ramp.toNanos();
        long end = recordFrom + measure.toNanos();
        try {
            long seq = 0;
            while (true) {
                long t0 = System.nanoTime();
                if (t0 - end >= 0) {
                    return null;
                }
                request[0] = (byte) seq++;
                out.write(request);
                readFully(in, response);
                long t1 = System.nanoTime();
                if (response[0] != request[0]) {
                    return "the echo did not match the request";
                }
                if (t0 - recordFrom >= 0) {
                    h.recordValue(Math.max(1, t1 - t0));
                }
            }
        } catch (IOException | RuntimeException e) {
            return e.toString();
        }
    }

    static void readFully(InputStream in, byte[] buf) throws IOException {
        int got = 0;
        while (got < buf.length) {
            int n = in.read(buf, got, buf.length - got);
            if (n < 0) {
                throw new EOFException("end of stream after " + got + " of " + buf.length + " bytes");
            }
            got += n;
        }
    }

}
