package smux.cli;

/** The command's exit codes, beyond 0 for success (a command may add its own, as probe does). */
final class ExitCode {
    /** A command that failed for a reason it explained. */
    static final int FAILED = 1;
    /** A connection that could not be made. */
    static final int CONNECTION_ERROR = 2;
    /** A bad command line (picocli's too). */
    static final int USAGE = 2;

    private ExitCode() {
    }
}
