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

    /** @return open file descriptors of this process, or -1 where /proc is not there */
    public static long openFiles() {
        String[] fds = new File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }
}
