package smux.bench.core;

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
 * (or one raw TCP connection), timed with {@link System#nanoTime()} into an HdrHistogram. The
 * connection stays open between measurements, so several can take turns.
 */
abstract class RoundTrip implements AutoCloseable {
    static final int MESSAGE = 64;

    final String transport;
    final Histogram histogram = new Histogram(3);
    protected final Workers workers;
    private InputStream in;
    private OutputStream out;
    private long seq;
    private String error;

    RoundTrip(String transport) {
        this.transport = transport;
        this.workers = new Workers("rtt-" + transport);
    }

    /** @return what was measured, without ratios */
    RoundTripRow result() {
        Histogram h = histogram;
        if (h.getTotalCount() == 0) {
            return RoundTripRow.failed(transport, error == null ? "no round trips" : error);
        }
        return new RoundTripRow(transport, h.getTotalCount(), h.getValueAtPercentile(50) / 1e3,
                h.getValueAtPercentile(99) / 1e3, h.getMean() / 1e3, Double.NaN, Double.NaN, error);
    }

    /** Raw TCP: one loopback connection with TCP_NODELAY, as smux sets on its connection. */
    static RoundTrip raw() throws IOException {
        Raw r = new Raw();
        try {
            r.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            r.client = new Socket();
            r.client.setTcpNoDelay(true);
            r.client.connect(r.listener.getLocalSocketAddress(), 10_000);
            r.server = r.listener.accept();
            r.server.setTcpNoDelay(true);
            InputStream sin = r.server.getInputStream();
            OutputStream sout = r.server.getOutputStream();
            r.workers.start("echo", () -> echo(sin, sout));
            r.connect(r.client.getInputStream(), r.client.getOutputStream());
            return r;
        } catch (IOException | RuntimeException e) {
            r.close();
            throw e;
        }
    }

    /** One stream of a loopback smux session pair. */
    static RoundTrip smux(SmuxConfig config) throws Exception {
        Mux m = new Mux(config.transport().orElse("smux"));
        try {
            m.pair = LoopbackPair.open(config);
            SmuxStream c = m.pair[0].openStream();
            c.outputStream().write(new byte[MESSAGE]); // the SYN and a first message make the stream known
            SmuxStream s = m.pair[1].acceptStream(Duration.ofSeconds(10));
            readFully(s.inputStream(), new byte[MESSAGE]);
            m.workers.start("echo", () -> echo(s.inputStream(), s.outputStream()));
            m.connect(c.inputStream(), c.outputStream());
            return m;
        } catch (Exception e) {
            m.close();
            throw e;
        }
    }

    final void connect(InputStream i, OutputStream o) {
        this.in = i;
        this.out = o;
    }

    /**
     * Runs round trips for {@code ramp} without recording, then for {@code slice} into the
     * histogram, on the calling thread.
     *
     * @return false if the connection failed (see {@link RoundTripRow#error})
     */
    boolean measure(Duration ramp, Duration slice) {
        if (error != null) {
            return false;
        }
        byte[] request = new byte[MESSAGE];
        byte[] response = new byte[MESSAGE];
        long recordFrom = System.nanoTime() + ramp.toNanos();
        long end = recordFrom + slice.toNanos();
        try {
            while (true) {
                long t0 = System.nanoTime();
                if (t0 - end >= 0) {
                    return true;
                }
                request[0] = (byte) seq++;
                out.write(request);
                readFully(in, response);
                long t1 = System.nanoTime();
                if (response[0] != request[0]) {
                    error = "the echo did not match the request";
                    return false;
                }
                if (t0 - recordFrom >= 0) {
                    histogram.recordValue(Math.max(1, t1 - t0));
                }
            }
        } catch (IOException | RuntimeException e) {
            error = e.toString();
            return false;
        }
    }

    protected abstract void closeConnections();

    @Override
    public void close() {
        closeConnections();
        workers.joinAll(5_000);
    }

    private static void echo(InputStream i, OutputStream o) {
        byte[] buf = new byte[MESSAGE];
        try {
            while (true) {
                readFully(i, buf);
                o.write(buf);
            }
        } catch (IOException | RuntimeException e) {
            // the client closed: the case is over
        }
    }

    static void readFully(InputStream in, byte[] buf) throws IOException {
        int got = in.readNBytes(buf, 0, buf.length);
        if (got < buf.length) {
            throw new EOFException("end of stream after " + got + " of " + buf.length + " bytes");
        }
    }

    private static final class Raw extends RoundTrip {
        ServerSocket listener;
        Socket client;
        Socket server;

        Raw() {
            super(ThroughputRow.RAW);
        }

        @Override
        protected void closeConnections() {
            Load.closeQuietly(client);
            Load.closeQuietly(server);
            Load.closeQuietly(listener);
        }
    }

    private static final class Mux extends RoundTrip {
        Session[] pair;

        Mux(String transport) {
            super(transport);
        }

        @Override
        protected void closeConnections() {
            if (pair != null) {
                Load.closeQuietly(pair[0]);
                Load.closeQuietly(pair[1]);
            }
        }
    }
}
