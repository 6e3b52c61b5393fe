package smux.engine.runtime;

import java.io.IOException;
import java.net.Socket;
import smux.api.AbandonedBytesException;
import smux.api.SmuxConfig;

/**
 * How every transport starts a session over a connected socket: create the session, let the
 * transport set its connection up, start the session, let the connection run, then wait for the
 * probe's answer if one was asked for. A start that fails leaves nothing behind: the socket is
 * closed, and a session already created is ended (its memory returns to the budget) without
 * ever reaching the caller.
 */
public final class SessionStarter {
    private SessionStarter() {
    }

    /** A transport's side of one session: what the session drives, and how it starts running. */
    public interface Connection extends Transport {
        /**
         * Starts moving bytes (threads, an event loop). The session knows this connection
         * already, so it may be called back at once.
         *
         * @throws IOException if the connection cannot run; what it made itself is released by
         *     then (the socket aside: the caller closes it)
         */
        void launch() throws IOException;
    }

    /** Sets a transport's connection up for a session; nothing moves yet. */
    @FunctionalInterface
    public interface Connector {
        /**
         * @param link the new session, as the connection drives it
         * @return the connection, not yet running
         * @throws IOException if the connection cannot be set up; what it made itself is released
         *     by then (the socket aside: the caller closes it)
         */
        Connection connect(SessionLink link) throws IOException;
    }

    /**
     * Starts a session over {@code socket} and returns it once it runs (for a client with
     * {@link SmuxConfig#probePeer()}, once the peer answered the probe).
     *
     * @param socket the connected socket (for a channel, {@code channel.socket()}: closing it closes the channel)
     * @param client true for the dialing side
     * @param config the settings
     * @param transport the transport's name
     * @param connector sets the transport's connection up
     * @return the running session
     * @throws IOException if the socket, the transport or the probe failed; the socket and the
     *     session are closed by then
     */
    public static SmuxSession start(Socket socket, boolean client, SmuxConfig config, String transport,
                                    Connector connector) throws IOException {
        SmuxSession session;
        try {
            socket.setTcpNoDelay(true);
            session = SmuxSession.create(client, config, transport, socket.getLocalSocketAddress(),
                    socket.getRemoteSocketAddress());
        } catch (IOException | RuntimeException e) {
            closeQuietly(socket, e);
            throw e;
        }
        try {
            Connection connection = connector.connect(session.link());
            session.start(connection);
            connection.launch();
        } catch (IOException | RuntimeException e) {
            closeQuietly(socket, e);
            end(session.link(), e);
            throw e;
        }
        try {
            session.awaitProbe();
        } catch (IOException e) {
            try {
                session.close(); // the engine ended already: this waits for the connection to close
            } catch (AbandonedBytesException lost) {
                e.addSuppressed(lost); // nothing was written but the probe, so this does not happen
            }
            closeQuietly(socket, e);
            throw e;
        }
        return session;
    }

    /**
     * A session that never ran, or whose connection never started: it ends the way a failed
     * connection ends, so its memory goes back to the budget and its log says why.
     */
    private static void end(SessionLink link, Exception failure) {
        link.onTransportError(failure instanceof IOException io ? io
                : new IOException("the transport could not start: " + failure, failure));
        link.connectionClosed();
    }

    private static void closeQuietly(Socket socket, Exception failure) {
        try {
            socket.close();
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
    }
}
