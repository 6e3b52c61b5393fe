package smux.it;

import java.io.File;

/** What a test counts to prove that sessions leave nothing behind: smux threads and open files. */
public final class Leaks {
    private Leaks() {
    }

    /** @return alive threads whose name starts with {@code smux-} (the transports name all theirs so) */
    public static long smuxThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("smux-")).count();
    }

    /** @return the names and states of the alive threads whose name starts with {@code smux-}, for messages */
    public static String smuxThreadNames() {
        return Thread.getAllStackTraces().entrySet().stream()
                .filter(e -> e.getKey().isAlive() && e.getKey().getName().startsWith("smux-"))
                .map(e -> e.getKey().getName() + " " + e.getKey().getState()
                        + (e.getValue().length > 0 ? " at " + e.getValue()[0] : ""))
                .toList().toString();
    }

    /** @return open file descriptors of this process, or -1 where /proc is not there */
    public static long openFiles() {
        String[] fds = new File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }
}
