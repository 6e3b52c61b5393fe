package smux.cli;

import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import smux.api.ProtocolException;
import smux.api.Session;
import smux.api.SessionClosedException;

/**
 * The one-line log of a long-running command ({@code serve}, {@code tunnel}): every line starts
 * with the local time to the millisecond and the command's name
 * ({@code 2025-06-01 12:00:00.123 smux tunnel client: ...}) and goes to standard error, where
 * service managers collect it. The time is there because a drop and a reconnect 2 ms apart read
 * very differently from the same two lines a minute apart.
 *
 * <p>Also the words for a failure that every command uses, in its log or in its one error line.
 */
final class Log {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");

    private final String prefix;

    Log(String command) {
        this.prefix = "smux " + command + ": ";
    }

    void info(String message) {
        line(prefix + message);
    }

    /** Writes one line to standard error, with the time in front. */
    static void line(String text) {
        String stamped = TIME.format(LocalDateTime.now()) + " " + text;
        synchronized (System.err) {
            System.err.println(stamped);
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
        return describe(t);
    }

    /** One line that says what went wrong: the message alone where it says enough, with the failure's name where not. */
    static String describe(Throwable t) {
        String m = t.getMessage();
        if (t instanceof java.nio.channels.UnresolvedAddressException || t instanceof java.net.UnknownHostException) {
            return "cannot resolve host" + (m == null ? "" : " " + m);
        }
        if (t instanceof java.io.IOException || t instanceof IllegalArgumentException || t instanceof IllegalStateException) {
            return m != null ? m : t.getClass().getSimpleName();
        }
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    /**
     * How a session ended, in words that say what to do about a misconfiguration.
     *
     * @param tlsPeerAdvice what to say when the peer spoke TLS to this plain end
     */
    static String sessionEnd(Session s, SessionClosedException e, String tlsPeerAdvice) {
        return s.closeCause().map(c -> {
            if (c.getCause() instanceof ProtocolException p && p.violation() == ProtocolException.Violation.WRONG_VERSION) {
                return "the peer speaks another protocol version (" + p.getMessage() + "); start both ends with the same --protocol";
            }
            if (c.getCause() instanceof ProtocolException p && p.violation() == ProtocolException.Violation.TLS_RECORD) {
                return "the peer speaks TLS (its first bytes were a TLS record, not an smux frame); " + tlsPeerAdvice;
            }
            return c.getMessage();
        }).orElse(e.getMessage());
    }
}
