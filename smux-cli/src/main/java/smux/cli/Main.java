package smux.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code smux} command. Each subcommand is its own class; errors come out as one clear line
 * (the message, not a stack trace) and an exit code, unless {@code SMUX_DEBUG} is set.
 */
@Command(name = "smux", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Many ordered, flow-controlled streams over one TCP connection, wire-compatible with Go xtaci/smux.",
        subcommands = {DemoCommand.class, BenchCommand.class, TunnelCommand.class, ServeCommand.class,
                ProbeCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** Exit code of a command that failed for a reason it explained. */
    static final int FAILED = 1;
    /** Exit code for a connection that could not be made. */
    static final int CONNECTION_ERROR = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * Runs the command line.
     *
     * @param args the arguments
     */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            if (System.getenv("SMUX_DEBUG") != null) {
                e.printStackTrace(err);
            }
            Throwable t = e instanceof UncheckedIOException u ? u.getCause() : e;
            err.println("smux " + commandLine.getCommandName() + ": " + describe(t));
            err.flush();
            return t instanceof java.net.ConnectException || t instanceof java.net.UnknownHostException
                    || t instanceof java.net.NoRouteToHostException ? CONNECTION_ERROR : FAILED;
        });
        return cl.execute(args);
    }

    /** One line that says what went wrong. */
    static String describe(Throwable t) {
        String m = t.getMessage();
        if (t instanceof IOException || t instanceof IllegalArgumentException || t instanceof IllegalStateException) {
            return m != null ? m : t.getClass().getSimpleName();
        }
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Prints the version from the jar's manifest, if any. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"smux " + (v == null ? "(development build)" : v)};
        }
    }
}
