/**
 * The smux protocol engine and the session runtime. Not for applications: they require
 * {@code smux.api} and get this module through a transport.
 *
 * <p>{@code smux.engine} is the pure protocol engine: no I/O, no threads, no locks, no clock.
 */
module smux.engine {
    requires transitive smux.api;

    exports smux.engine;
}
