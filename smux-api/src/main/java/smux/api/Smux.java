package smux.api;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Objects;
import smux.api.spi.TransportProvider;

/**
 * The entry point: starts sessions over connections and probes peers.
 *
 * <pre>{@code
 * // client
 * try (Session session = Smux.connect(new InetSocketAddress("example.org", 7000), SmuxConfig.defaults());
 *      SmuxStream stream = session.openStream()) {
 *     stream.outputStream().write("ping".getBytes(StandardCharsets.UTF_8));
 * }
 *
 * // server, for each accepted socket
 * Session session = Smux.server(socket, SmuxConfig.defaults());
 * SmuxStream stream = session.acceptStream();
 * }</pre>
 *
 * <p>The transport is found with {@link java.util.ServiceLoader}: put {@code smux-transport-socket}
 * or {@code smux-transport-nio} on the module path (or class path). See {@link TransportProvider}
 * for how one is chosen.
 *
 * <p><b>TLS.</b> A session runs over any connected {@link Socket}, including an
 * {@link javax.net.ssl.SSLSocket}, with the {@code socket} transport: it only reads and writes
 * the socket's input and output streams (from its reader and writer threads), which an
 * {@code SSLSocket} encrypts. Pass the socket to {@link #client(Socket, SmuxConfig)} or
 * {@link #server(Socket, SmuxConfig)} after its handshake ({@code startHandshake()}, so that a
 * failed handshake is reported as such and not as a session failure), with
 * {@code SmuxConfig.builder().transport("socket")} when the NIO transport is installed too. The
 * {@code nio} transport cannot carry TLS: it needs the socket's {@link SocketChannel} to
 * read and write without blocking from its selector thread, and an {@code SSLSocket} has none
 * (the JDK offers TLS for channels only as {@link javax.net.ssl.SSLEngine}, which the transports do
 * not drive); given an {@code SSLSocket} it throws {@link IllegalArgumentException}.
 * {@link #isSmux(Socket, SmuxConfig)} and {@link #probe(Socket, SmuxConfig)} work over an
 * {@code SSLSocket} too.
 */
public final class Smux {
    /** The system property that forces a transport by name. */
    public static final String TRANSPORT_PROPERTY = "smux.transport";

    private Smux() {
    }

    /**
     * Starts the client side of a session over a connected socket: a plain {@link Socket}, or an
     * {@link javax.net.ssl.SSLSocket} with the {@code socket} transport (see TLS above).
     *
     * @param socket a connected socket; the session owns it from now on
     * @param config the settings
     * @return the running session
     * @throws IOException if the session cannot start, or the peer failed the probe when
     *     {@link SmuxConfig#probePeer()} is set
     * @throws IllegalStateException if no transport is available (the message says what to add)
     * @throws IllegalArgumentException if the socket is not connected, the chosen transport
     *     cannot drive it (the {@code nio} transport and a socket without a channel, such as an
     *     {@code SSLSocket}), or the version is {@link SmuxConfig#VERSION_AUTO} (servers only)
     */
    public static Session client(Socket socket, SmuxConfig config) throws IOException {
        requireConnected(socket);
        return Transports.choose(requireClientConfig(config)).open(socket, true, config);
    }

    /**
     * Starts the server side of a session over a connected socket: a plain {@link Socket}, or an
     * {@link javax.net.ssl.SSLSocket} with the {@code socket} transport (see TLS above).
     *
     * @param socket a connected (accepted) socket; the session owns it from now on
     * @param config the settings
     * @return the running session
     * @throws IOException if the session cannot start
     * @throws IllegalStateException if no transport is available
     * @throws IllegalArgumentException if the socket is not connected, or the chosen transport
     *     cannot drive it (the {@code nio} transport and a socket without a channel, such as an
     *     {@code SSLSocket})
     */
    public static Session server(Socket socket, SmuxConfig config) throws IOException {
        requireConnected(socket);
        return Transports.choose(requireConfig(config)).open(socket, false, config);
    }

    /**
     * Starts the client side of a session over a connected channel.
     *
     * @param channel a connected channel; the session owns it from now on
     * @param config the settings
     * @return the running session
     * @throws IOException if the session cannot start
     * @throws IllegalStateException if no transport is available
     * @throws IllegalArgumentException if the version is {@link SmuxConfig#VERSION_AUTO} (servers only)
     */
    public static Session client(SocketChannel channel, SmuxConfig config) throws IOException {
        requireConnected(channel);
        return Transports.choose(requireClientConfig(config)).open(channel, true, config);
    }

    /**
     * Starts the server side of a session over a connected channel.
     *
     * @param channel a connected (accepted) channel; the session owns it from now on
     * @param config the settings
     * @return the running session
     * @throws IOException if the session cannot start
     * @throws IllegalStateException if no transport is available
     */
    public static Session server(SocketChannel channel, SmuxConfig config) throws IOException {
        requireConnected(channel);
        return Transports.choose(requireConfig(config)).open(channel, false, config);
    }

    /**
     * Dials {@code address} and starts the client side of a session.
     *
     * @param address where to connect
     * @param config the settings
     * @return the running session
     * @throws IOException if connecting fails or the session cannot start
     * @throws IllegalStateException if no transport is available
     * @throws IllegalArgumentException if the version is {@link SmuxConfig#VERSION_AUTO} (servers only)
     */
    public static Session connect(SocketAddress address, SmuxConfig config) throws IOException {
        requireResolved(address);
        TransportProvider provider = Transports.choose(requireClientConfig(config));
        SocketChannel channel = dial(address);
        try {
            return provider.open(channel, true, config);
        } catch (IOException | RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    /**
     * Asks whether the peer on a connected socket speaks this library's protocol, with the
     * default settings (version 2, 5 s timeout). See {@link #isSmux(Socket, SmuxConfig)}.
     *
     * @param socket a connected socket that carries nothing yet
     * @return true if the peer answered the probe
     * @throws IllegalStateException if no transport is available
     */
    public static boolean isSmux(Socket socket) {
        return isSmux(socket, SmuxConfig.defaults());
    }

    /**
     * Asks whether the peer on a connected socket speaks this library's protocol (the seed's
     * {@code IsSmux}): sends one probe frame and waits up to {@link SmuxConfig#probeTimeout()}
     * for the right answer. Never throws because of what the peer does: a plain xtaci/smux peer,
     * another protocol, silence, or a closed connection all give false. {@link #probe(Socket,
     * SmuxConfig)} says which of these it was.
     *
     * <p>When the answer is true, start a client session on the same socket (the server already
     * runs one). When it is false the connection is spent: an xtaci/smux peer stops reading a
     * connection that sent it an unknown frame. Close it.
     *
     * @param socket a connected socket that carries nothing yet
     * @param config the version the probe frame carries and the timeout
     * @return true if the peer answered the probe
     * @throws IllegalStateException if no transport is available
     * @throws IllegalArgumentException if the socket is not connected
     */
    public static boolean isSmux(Socket socket, SmuxConfig config) {
        return probe(socket, config).isSmux();
    }

    /**
     * Probes the peer on a connected socket, as {@link #isSmux(Socket, SmuxConfig)} does, and says
     * what the peer did: answered ({@link ProbeResult#SMUX}), closed the connection without a word
     * as a Go xtaci/smux peer does ({@link ProbeResult#CLOSED}), sent a TLS record
     * ({@link ProbeResult#TLS}), stayed silent ({@link ProbeResult#NO_ANSWER}) or sent something
     * else ({@link ProbeResult#NOT_SMUX}). Never throws because of what the peer does.
     *
     * <p>After {@link ProbeResult#SMUX}, start a client session on the same socket; after anything
     * else the connection is spent: close it.
     *
     * @param socket a connected socket that carries nothing yet
     * @param config the version the probe frame carries and the timeout
     * @return what the peer did
     * @throws IllegalStateException if no transport is available
     * @throws IllegalArgumentException if the socket is not connected
     */
    public static ProbeResult probe(Socket socket, SmuxConfig config) {
        requireConnected(socket);
        return Transports.choose(requireClientConfig(config)).probe(socket, config);
    }

    /**
     * Dials {@code address}, probes it and closes the connection.
     *
     * @param address where to connect
     * @param config the probe's version and timeout
     * @return true if the peer answered the probe
     * @throws IOException if the connection cannot be made (a peer that answers otherwise gives false)
     * @throws IllegalStateException if no transport is available
     */
    public static boolean isSmux(SocketAddress address, SmuxConfig config) throws IOException {
        return probe(address, config).isSmux();
    }

    /**
     * Dials {@code address}, probes it as {@link #probe(Socket, SmuxConfig)} does and closes the
     * connection.
     *
     * @param address where to connect
     * @param config the probe's version and timeout
     * @return what the peer did
     * @throws IOException if the connection cannot be made (whatever the peer does once connected
     *     is a result, not an exception)
     * @throws IllegalStateException if no transport is available
     */
    public static ProbeResult probe(SocketAddress address, SmuxConfig config) throws IOException {
        requireResolved(address);
        TransportProvider provider = Transports.choose(requireClientConfig(config));
        try (SocketChannel channel = dial(address)) {
            return provider.probe(channel.socket(), config);
        }
    }

    /**
     * Lists the transports found on the module path or class path, available or not.
     *
     * @return their names, highest priority first
     */
    public static List<String> transports() {
        return Transports.names();
    }

    /** Dials with a blocking channel: every transport can take a channel (a plain Socket suits only some). */
    private static SocketChannel dial(SocketAddress address) throws IOException {
        requireResolved(address);
        SocketChannel channel = SocketChannel.open();
        try {
            channel.socket().connect(address, 30_000);
            return channel;
        } catch (IOException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    // The argument checks run before a transport is chosen, so that a caller's mistake is
    // reported as such even where no transport is installed.

    private static void requireResolved(SocketAddress address) throws java.net.UnknownHostException {
        Objects.requireNonNull(address, "address");
        if (address instanceof InetSocketAddress inet && inet.isUnresolved()) {
            throw new java.net.UnknownHostException("cannot resolve " + inet.getHostString());
        }
    }

    private static SmuxConfig requireConfig(SmuxConfig config) {
        return Objects.requireNonNull(config, "config");
    }

    /** A client's first frame tells an auto server its version, so the client must have one. */
    private static SmuxConfig requireClientConfig(SmuxConfig config) {
        if (requireConfig(config).versionAuto()) {
            throw new IllegalArgumentException("version AUTO is for servers (they take the version of the client's first "
                    + "frame): configure a client or a probe with version 1 or 2");
        }
        return config;
    }

    private static Socket requireConnected(Socket socket) {
        Objects.requireNonNull(socket, "socket");
        if (!socket.isConnected() || socket.isClosed()) {
            throw new IllegalArgumentException("the socket must be connected and open: connect it first, or use Smux.connect");
        }
        return socket;
    }

    private static SocketChannel requireConnected(SocketChannel channel) {
        Objects.requireNonNull(channel, "channel");
        if (!channel.isConnected() || !channel.isOpen()) {
            throw new IllegalArgumentException("the channel must be connected and open: finish connecting it first");
        }
        return channel;
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // nothing more to do: the caller gets the original failure
        }
    }
}
