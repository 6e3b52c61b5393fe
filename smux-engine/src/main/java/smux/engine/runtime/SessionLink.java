package smux.engine.runtime;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A session as a transport sees it: where received bytes go, where bytes to send come from, and
 * when timers are due. The session's pump implements it ({@link SmuxSession#link()}); a transport
 * holds only this (and the pump holds the transport as its {@link Transport}), so transports can
 * be tested against a scripted session.
 *
 * <p>Every method is thread-safe and returns promptly; none blocks on the network.
 */
public interface SessionLink {
    /**
     * Feeds received bytes to the engine.
     *
     * @param src the bytes; in version 1 the engine may leave some, at a frame boundary, when its
     *     receive budget is spent (then {@link #wantsInput()} is false until the application
     *     reads, and {@link Transport#inputReady()} is called once it is true again)
     */
    void onInput(ByteBuffer src);

    /** The connection reached end-of-stream. */
    void onEof();

    /**
     * Reading or writing the connection failed.
     *
     * @param e the failure
     */
    void onTransportError(IOException e);

    /**
     * Pulls frames into the staging buffer (the commit point of every data byte copied). Runs due
     * timers first.
     *
     * @param staging where frames go, at its position
     * @return bytes added
     */
    int pull(ByteBuffer staging);

    /**
     * Like {@link #pull}, but only if the engine is free right now: for an application thread
     * that sends on its own ({@link Transport#transmitFromCaller}) and must never wait for the
     * transport's threads.
     *
     * @param staging where frames go, at its position
     * @return bytes added, or -1 if another thread holds the engine (nothing was pulled)
     */
    int tryPull(ByteBuffer staging);

    /** @return whether the engine still had something to send after the last pull (a hint, no lock) */
    boolean pullLeftWork();

    /** Runs the engine's timers if one is due. */
    void runTimers();

    /** @return nanoseconds until the next timer (0 if due), or -1 if no timer is armed */
    long nanosUntilDeadline();

    /** @return whether the engine has frames to send */
    boolean wantsTransmit();

    /** @return whether the engine takes input (false in version 1 while the budget is spent, or once closed) */
    boolean wantsInput();

    /** @return whether a local close has nothing left to send */
    boolean isFlushed();

    /**
     * A local close's flush ended before every committed data frame was accepted whole by the
     * connection: the session gave up ({@link Transport#forceClose}) or the connection failed while
     * flushing. Call once, before {@link #connectionClosed}, with what was dropped.
     *
     * @param payloadBytes committed stream payload the peer will not receive: the whole payload
     *     of every data frame not accepted whole, including one cut part-way (see
     *     {@link smux.engine.FrameCodec#payloadNotDelivered})
     * @param failure the connection's failure if it failed by itself, null if the session forced the close
     */
    void committedBytesAbandoned(long payloadBytes, IOException failure);

    /** The transport closed the connection; a waiting close returns. Calling it again does nothing. */
    void connectionClosed();
}
