package smux.engine.runtime;

/**
 * The transport side of a session: what moves the bytes (a socket's reader and writer threads, or
 * a selector loop). The transports implement it; the session's pump ({@link SessionPump}) calls it
 * to say what the transport must do, from any thread, sometimes while holding the engine's lock, so
 * these methods must only record the request and wake the transport's own thread (set a flag,
 * unpark it, wake a selector): never block, never take a lock the transport holds while it calls
 * the session (see {@link #transmitFromCaller} for the one exception, which may do non-blocking
 * I/O). The transport, in turn, drives the session through its {@link SessionLink}.
 */
public interface Transport {
    /** The engine has frames to send, or a timer changed: the writer should pull. */
    void transmitReady();

    /**
     * An application thread just gave the session something to send (a write, or consumption
     * that may produce a window update). A transport that can send on the calling thread without
     * waiting for anything (its writer idle, the engine free, the socket taking the bytes) may do
     * so here, which saves a thread hop on every round trip; otherwise, as by default, it wakes
     * its writer. It must never block: the calling thread may hold a write deadline.
     */
    default void transmitFromCaller() {
        transmitReady();
    }

    /** Version 1 only: the engine accepts input again after the application read. */
    void inputReady();

    /**
     * The session is over. If {@code flush} is true (a local close), send what the engine still
     * produces until it is flushed or the close timeout passes, then close the connection;
     * otherwise close the connection now.
     *
     * @param flush whether to flush the last frames first
     */
    void shutdown(boolean flush);

    /**
     * Close the connection now, even if a write is stuck (the close timeout passed with no
     * progress). A transport that drops committed bytes this way reports how many with
     * {@link SessionLink#committedBytesAbandoned} before {@link SessionLink#connectionClosed}.
     * It shuts the output first and drops the input that is waiting, so that closing does not
     * make the kernel reset the connection and discard the bytes it had already accepted.
     */
    void forceClose();

    /**
     * Returns how many bytes the connection has accepted so far. A closing session waits as long as
     * this grows: a flush that moves is never cut off, only one that stands still for the close
     * timeout. Any thread may call it.
     *
     * @return bytes written to the connection since it started
     */
    long bytesWritten();
}
