package smux.api.spi;

import java.io.IOException;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import smux.api.ProbeResult;
import smux.api.Session;
import smux.api.SmuxConfig;

/**
 * A transport: what moves a session's bytes over a connection. Implementations are found with
 * {@link java.util.ServiceLoader}; a module provides one with
 * {@code provides smux.api.spi.TransportProvider with ...}. Applications never call this
 * interface: they use {@link smux.api.Smux}, which picks the provider.
 *
 * <p>Choice: the provider named by {@link SmuxConfig#transport()}, else the one named by the
 * system property {@code smux.transport}, else the available provider with the highest
 * {@link #priority()}.
 */
public interface TransportProvider {

    /** @return the short name users select it by, e.g. {@code "socket"} or {@code "nio"} */
    String name();

    /** @return the rank among available providers; higher wins (default 0) */
    default int priority() {
        return 0;
    }

    /** @return whether the provider can run here (e.g. the platform supports what it needs) */
    default boolean isAvailable() {
        return true;
    }

    /**
     * Starts a session over a connected socket; the session owns the socket from then on.
     *
     * @param socket a connected socket
     * @param client true for the side that dialed
     * @param config the session's settings
     * @return the running session
     * @throws IOException if the session cannot start (the socket is then closed)
     */
    Session open(Socket socket, boolean client, SmuxConfig config) throws IOException;

    /**
     * Starts a session over a connected channel; the session owns the channel from then on.
     *
     * @param channel a connected channel, blocking or not
     * @param client true for the side that dialed
     * @param config the session's settings
     * @return the running session
     * @throws IOException if the session cannot start (the channel is then closed)
     */
    Session open(SocketChannel channel, boolean client, SmuxConfig config) throws IOException;

    /**
     * Probes the peer on a connected socket: sends one probe frame and waits up to
     * {@link SmuxConfig#probeTimeout()} for the right answer, reading nothing beyond it.
     *
     * @param socket a connected socket that carries nothing else yet
     * @param config its {@link SmuxConfig#version()} is the version the probe frame carries
     * @return {@link ProbeResult#SMUX} if the peer answered as this library does; otherwise what
     *     it did instead (a connection that fails during the probe is {@link ProbeResult#CLOSED}
     *     if nothing had arrived); never throws for what the peer does
     */
    ProbeResult probe(Socket socket, SmuxConfig config);
}
