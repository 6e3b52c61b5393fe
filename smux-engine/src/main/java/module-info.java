/**
 * The smux protocol engine and the session runtime. Not for applications: they require
 * {@code smux.api} and get this module through a transport.
 *
 * <ul>
 *   <li>{@code smux.engine}: the pure protocol engine. No I/O, no threads, no locks, no clock.</li>
 *   <li>{@code smux.engine.runtime}: the thread-safe session around the engine (locks, waits,
 *       event routing), shared by the transports and exported to them only.</li>
 * </ul>
 */
module smux.engine {
    requires transitive smux.api;
    requires jdk.jfr;

    exports smux.engine;
    exports smux.engine.runtime to smux.transport.socket, smux.transport.nio;
}
