package smux.cli;

/**
 * The one-line log of a long-running command ({@code serve}, {@code tunnel}): every line starts
 * with the command's name ({@code smux tunnel client: ...}) and goes to standard error, where
 * service managers collect it.
 */
final class Log {
    private final String prefix;

    Log(String command) {
        this.prefix = "smux " + command + ": ";
    }

    void info(String message) {
        synchronized (System.err) {
            System.err.println(prefix + message);
            System.err.flush();
        }
    }

    /** What a failure was, in a few words a log line can hold (a resource exhaustion named as such). */
    static String reason(Throwable t) {
        if (t instanceof OutOfMemoryError) {
            String m = String.valueOf(t.getMessage());
            return m.contains("native thread") ? "no thread could be started (" + m + ")" : "out of memory (" + m + ")";
        }
        if (t instanceof java.util.concurrent.RejectedExecutionException) {
            return "every worker thread is busy (--max-threads)";
        }
        return Main.describe(t);
    }
}
