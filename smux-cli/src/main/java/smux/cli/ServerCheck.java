package smux.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.time.Duration;
import smux.api.ProbeResult;
import smux.api.Session;
import smux.api.Smux;
import smux.api.SmuxConfig;

/**
 * How the tunnel client opens each session to its server, and what it makes of a server that does
 * not answer: it probes every time ({@link Smux#probe}), so no conclusion outlives the server it
 * was drawn from.
 *
 * <ul>
 * <li>Answered: the session starts on the same connection and probes once more through itself
 *     ({@link SmuxConfig.Builder#probePeer}), so it is known to work before the link calls it
 *     connected. A server that answered and then closed is shutting down (a restart).</li>
 * <li>Closed without a word: a Go xtaci/smux server does that, and so does this library of the
 *     other protocol version (a second probe with that version, on a fresh connection, finds it),
 *     and so does a server of ours caught shutting down. One round proves nothing, so the link
 *     probes again after its backoff; only a server that closes on the probe in
 *     {@value #ROUNDS_BEFORE_UNVERIFIED} rounds in a row gets an unverified session, labelled as
 *     likely Go. The same holds for a server that never answers (a Go server that stops reading
 *     without closing).</li>
 * <li>A TLS record, plain smux where TLS was expected, or another protocol: a configuration error,
 *     named as such.</li>
 * </ul>
 */
final class ServerCheck {
    private static final int CONNECT_TIMEOUT_MILLIS = 10_000;
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(3);
    /** Rounds in a row (each after the link's backoff) in which the server closed on the probe before it is taken for Go. */
    static final int ROUNDS_BEFORE_UNVERIFIED = 2;

    private final String host;
    private final int port;
    private final String name;
    private final SmuxConfig config;
    private final TlsOptions tls;
    private int unansweredRounds;
    /** The last session was unverified: the next reconnect needs one unanswered round, not several. */
    private boolean lastUnverified;
    private String unverifiedWhy;

    ServerCheck(String host, int port, String name, SmuxConfig config, TlsOptions tls) {
        this.host = host;
        this.port = port;
        this.name = name;
        this.config = config;
        this.tls = tls;
    }

    /**
     * Opens a session that works.
     *
     * @return a verified session, or an unverified one ({@link #unverifiedWhy()} says why)
     * @throws Misconfigured if the two ends cannot work as configured (retry much later)
     * @throws Unready if the server is up but did not answer this time, or is shutting down (retry soon)
     * @throws IOException if the server cannot be reached (retry soon)
     */
    Session open() throws IOException {
        InetSocketAddress to = new InetSocketAddress(host, port); // resolved again: addresses may change
        if (to.isUnresolved()) {
            throw new UnknownHostException("'" + host + "'");
        }
        Socket socket = dial(to);
        ProbeResult result = probe(socket, config.version());
        if (result == ProbeResult.SMUX) {
            unansweredRounds = 0;
            lastUnverified = false;
            unverifiedWhy = null;
            return verifiedSession(socket);
        }
        Server.close(socket); // spent: a peer that did not answer may have stopped reading it
        switch (result) {
            case TLS:
                throw new Misconfigured("the server at " + name + " speaks TLS: start this end with --tls "
                        + "(and --tls-trust for a certificate the JDK does not trust)");
            case NOT_SMUX:
                throw new Misconfigured("the server at " + name + " does not speak smux (it answered the probe with "
                        + "something else): is --server right?");
            case CLOSED:
                otherVersionCheck(to);
                break;
            default:
                break; // NO_ANSWER: a silent peer gets no second probe, it would only wait again
        }
        String what = result == ProbeResult.CLOSED ? "closed the connection on the smux probe frame without answering"
                : "did not answer the smux probe within " + PROBE_TIMEOUT.toSeconds() + " s";
        if (++unansweredRounds < ROUNDS_BEFORE_UNVERIFIED && !lastUnverified) {
            throw new Unready("the server at " + name + " " + what + ": it may be shutting down (a restart), or be a "
                    + "Go xtaci/smux server, which " + (result == ProbeResult.CLOSED ? "closes on" : "ignores") + " the probe; probing again");
        }
        unverifiedWhy = "unverified: it " + what + (lastUnverified ? " again" : " " + unansweredRounds + " times in a row")
                + (result == ProbeResult.CLOSED ? ", as Go xtaci/smux servers do; a Go smux server is likely"
                : ": not this library; a Go xtaci/smux server that ignores the probe, or not smux at all");
        unansweredRounds = 0;
        lastUnverified = true;
        return Smux.client(dial(to), config);
    }

    /** @return why the last session opened is unverified, or null if it answered the probe */
    String unverifiedWhy() {
        return unverifiedWhy;
    }

    /** Starts the session on the probed socket; it probes once more, through itself, before it is returned. */
    private Session verifiedSession(Socket socket) throws IOException {
        try {
            return Smux.client(socket, config.toBuilder().probePeer(true).probeTimeout(PROBE_TIMEOUT).build());
        } catch (IOException e) {
            throw new Unready("the server at " + name + " answered the probe, then closed the session before it "
                    + "carried anything: it is shutting down (a restart?)");
        }
    }

    private ProbeResult probe(Socket socket, int version) {
        try {
            return Smux.probe(socket, config.toBuilder().version(version).probeTimeout(PROBE_TIMEOUT).build());
        } catch (RuntimeException e) {
            Server.close(socket);
            throw e;
        }
    }

    /** A server of the other version closes on our probe too: ask it in its version. */
    private void otherVersionCheck(InetSocketAddress to) throws IOException {
        int other = 3 - config.version();
        Socket second;
        try {
            second = dial(to);
        } catch (IOException e) {
            return; // gone meanwhile (a restart): the round counts as unanswered
        }
        try {
            if (probe(second, other) == ProbeResult.SMUX) {
                throw new Misconfigured("the server at " + name + " speaks smux protocol version " + other + ", this client "
                        + config.version() + ": start both ends with the same --protocol");
            }
        } finally {
            Server.close(second);
        }
    }

    /**
     * Connects (with TLS, handshakes). A TLS handshake that the server cut short without a TLS
     * word is checked once more in plain: a plain smux server that answers is named as such.
     */
    private Socket dial(InetSocketAddress to) throws IOException {
        try {
            return tls.dial(to, host, CONNECT_TIMEOUT_MILLIS);
        } catch (TlsOptions.HandshakeCut e) {
            ProbeResult plain;
            try {
                plain = Smux.probe(to, config.toBuilder().probeTimeout(PROBE_TIMEOUT).build());
            } catch (IOException | RuntimeException ignored) {
                throw e;
            }
            if (plain == ProbeResult.SMUX) {
                throw new Misconfigured("the server at " + name + " speaks plain smux, not TLS: start it with --tls, "
                        + "or this end without --tls");
            }
            throw e;
        }
    }

    /** The server is up but cannot carry a session now; the message is a whole log line. Retry after the backoff. */
    static class Unready extends IOException {
        private static final long serialVersionUID = 1L;

        Unready(String message) {
            super(message);
        }
    }

    /** The two ends cannot work as configured (versions, TLS on one end, not smux): retry much later. */
    static final class Misconfigured extends Unready {
        private static final long serialVersionUID = 1L;

        Misconfigured(String message) {
            super(message);
        }
    }
}
