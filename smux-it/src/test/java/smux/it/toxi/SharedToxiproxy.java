package smux.it.toxi;

import eu.rekawek.toxiproxy.ToxiproxyClient;

/**
 * The one Toxiproxy server of this test JVM: started on first use, shared by every test class, stopped by a
 * shutdown hook when the JVM exits (the end of a Surefire run).
 *
 * <p>Starting can be expensive (the first local backend builds toxiproxy-server with Go), so it happens once;
 * if it fails, the failure is kept and every later caller gets it at once instead of retrying per test class.
 * The shutdown hook is what removes the container: Ryuk, Testcontainers' own reaper, is disabled (see the
 * smux-it pom), and a JVM killed before its hook ran leaves a container that the next run removes
 * ({@link DockerEngine#removeOrphans()}).
 */
public final class SharedToxiproxy {

    private static ToxiproxyBackend backend;
    private static RuntimeException failure;

    private SharedToxiproxy() {
    }

    /** The running backend, started now if this is the first call. Fails, never skips, when none can run. */
    public static synchronized ToxiproxyBackend backend() {
        if (backend != null) {
            return backend;
        }
        if (failure != null) {
            throw new IllegalStateException("Toxiproxy could not be started earlier in this run: "
                    + failure.getMessage(), failure);
        }
        ToxiproxyBackend started;
        try {
            started = ToxiproxyBackend.start();
        } catch (RuntimeException e) {
            failure = e;
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(started::close, "smux-it-toxiproxy-stop"));
        backend = started;
        return backend;
    }

    /** Shorthand for {@code backend().client()}. */
    public static ToxiproxyClient client() {
        return backend().client();
    }
}
