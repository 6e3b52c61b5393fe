package smux.cli;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;

/**
 * The {@code smux} command. Each subcommand is its own class. Every error is one line that names
 * the flag or the address at fault (no stack trace unless {@code SMUX_DEBUG} is set): a bad option
 * exits 2 before anything starts, a failure while running exits 1 (2 for a connection that could
 * not be made).
 */
@Command(name = "smux", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Many ordered, flow-controlled streams over one TCP connection, wire-compatible with Go xtaci/smux.",
        subcommands = {DemoCommand.class, BenchCommand.class, TunnelCommand.class, ServeCommand.class,
                ProbeCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** Held so that the setting is not collected with a weakly referenced logger. */
    private static final java.util.logging.Logger LIBRARY_LOG = java.util.logging.Logger.getLogger("smux");

    @CommandLine.Spec
    CommandSpec spec;

    /**
     * Runs the command line.
     *
     * @param args the arguments
     */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String... args) {
        if (System.getenv("SMUX_DEBUG") == null) {
            // the commands log each session's end themselves, in one line with the command's name
            LIBRARY_LOG.setLevel(java.util.logging.Level.OFF);
        }
        // A thread that dies (an OutOfMemoryError in a session's reader, say) gets one line, not a
        // stack trace; on an OutOfMemoryError the server first frees memory (see Server).
        Thread.setDefaultUncaughtExceptionHandler(Main::threadDied);
        String misuse = protocolAsVersion(args);
        if (misuse != null) {
            System.err.println(misuse);
            return ExitCode.USAGE;
        }
        CommandLine cl = new CommandLine(new Main());
        cl.setParameterExceptionHandler(Main::badUsage);
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            if (System.getenv("SMUX_DEBUG") != null) {
                e.printStackTrace(err);
            }
            Throwable t = e instanceof UncheckedIOException u ? u.getCause() : e;
            err.println(prefix(commandLine) + ": " + Log.describe(t));
            err.flush();
            return t instanceof java.net.ConnectException || t instanceof java.net.UnknownHostException
                    || t instanceof java.net.NoRouteToHostException ? ExitCode.CONNECTION_ERROR : ExitCode.FAILED;
        });
        return cl.execute(args);
    }

    private static void threadDied(Thread t, Throwable e) {
        try {
            if (e instanceof OutOfMemoryError) {
                Server.onOutOfMemory(); // before anything that allocates
            }
            Log.line("smux: thread " + t.getName() + " ended: " + Log.reason(e));
            if (System.getenv("SMUX_DEBUG") != null) {
                e.printStackTrace();
            }
        } catch (Throwable ignored) {
            // out of memory even for this line: the thread ends quietly
        }
    }

    /** A bad command line: one line naming the flag, exit 2. An unknown option is named before a missing one. */
    private static int badUsage(ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        String message = e instanceof CommandLine.MissingParameterException ? unknownOption(cmd.getCommandSpec(), args)
                : e instanceof CommandLine.UnmatchedArgumentException u ? unknownCommand(cmd, u) : null;
        if (message == null) {
            message = e.getMessage().lines().findFirst().orElse("bad command line");
        }
        PrintWriter err = cmd.getErr();
        err.println(prefix(cmd) + ": " + message + " (see '" + cmd.getCommandSpec().qualifiedName() + " --help')");
        err.flush();
        return ExitCode.USAGE;
    }

    /** The first argument that looks like an option the command does not have, skipping option values. */
    private static String unknownOption(CommandSpec spec, String[] args) {
        Map<String, OptionSpec> options = spec.optionsMap();
        boolean value = false;
        for (String a : args) {
            if (value) {
                value = false;
                continue;
            }
            if (!a.startsWith("-") || a.equals("-")) {
                continue;
            }
            String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            OptionSpec o = options.get(name);
            if (o == null) {
                return "Unknown option: '" + name + "'";
            }
            value = !a.contains("=") && o.arity().min() > 0;
        }
        return null;
    }

    /**
     * A word where a command belongs ({@code smux servr}): named, with the commands there are and
     * the closest one if it is close.
     *
     * @return the message, or null if the unmatched argument is not in a command's place
     */
    private static String unknownCommand(CommandLine cmd, CommandLine.UnmatchedArgumentException e) {
        List<String> unmatched = e.getUnmatched();
        Map<String, CommandLine> commands = cmd.getSubcommands();
        if (commands.isEmpty() || unmatched.isEmpty() || unmatched.get(0).startsWith("-")) {
            return null;
        }
        String word = unmatched.get(0);
        String closest = null;
        int best = Integer.MAX_VALUE;
        for (String name : commands.keySet()) {
            int d = editDistance(word, name);
            if (d < best) {
                best = d;
                closest = name;
            }
        }
        return "unknown command '" + word + "'; the commands are " + String.join(", ", commands.keySet())
                + (best <= Math.max(1, word.length() / 3) ? " (did you mean '" + closest + "'?)" : "");
    }

    /** Levenshtein distance: the fewest one-letter edits that turn {@code a} into {@code b}. */
    static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitute = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(substitute, Math.min(prev[j], cur[j - 1]) + 1);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /**
     * {@code --version 1} was once the protocol version; now {@code --version} prints the
     * program's version, so an old command line would print it and exit 0 instead of running.
     */
    private static String protocolAsVersion(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String value = args[i].startsWith("--version=") ? args[i].substring(10)
                    : args[i].equals("--version") && i + 1 < args.length ? args[i + 1] : null;
            if ("1".equals(value) || "2".equals(value)) {
                return "smux: --version prints the program's version; the protocol version is --protocol " + value;
            }
        }
        return null;
    }

    private static String prefix(CommandLine cmd) {
        return cmd.getCommandSpec().qualifiedName();
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
