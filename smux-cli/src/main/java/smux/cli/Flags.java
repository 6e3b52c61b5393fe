package smux.cli;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import smux.api.Smux;

/**
 * Checks of option values, run before a command starts anything. Each failure is a
 * {@link ParameterException} whose message names the flag and says what it accepts; {@link Main}
 * prints it as one line and exits 2.
 */
final class Flags {
    private Flags() {
    }

    static ParameterException bad(CommandSpec spec, String flag, String message) {
        return new ParameterException(spec.commandLine(), flag + ": " + message);
    }

    static long range(CommandSpec spec, String flag, long value, long min, long max, String unit) {
        if (value < min || value > max) {
            throw bad(spec, flag, "must be between " + min + " and " + max + unit + ", got " + value);
        }
        return value;
    }

    static double positive(CommandSpec spec, String flag, double value, double max, String unit) {
        if (!(value > 0) || value > max) {
            throw bad(spec, flag, "must be more than 0 and at most " + num(max) + unit + ", got " + num(value));
        }
        return value;
    }

    /** A transport name that ServiceLoader found. */
    static String transport(CommandSpec spec, String flag, String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        List<String> found = Smux.transports();
        if (!found.contains(n)) {
            throw bad(spec, flag, "no transport named '" + name + "'; available: " + String.join(", ", found));
        }
        return n;
    }

    /**
     * Parses HOST:PORT ({@code :PORT} for every interface, {@code [v6]:PORT}) and resolves the
     * host now, so that a typo is reported before anything starts.
     */
    static InetSocketAddress address(CommandSpec spec, String flag, String value) {
        int colon = value.lastIndexOf(':');
        if (colon < 0) {
            throw bad(spec, flag, "'" + value + "' is not HOST:PORT");
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw bad(spec, flag, "'" + value + "': the port must be a number");
        }
        if (port < 0 || port > 65535) {
            throw bad(spec, flag, "'" + value + "': the port must be between 0 and 65535");
        }
        if (host.isEmpty()) {
            return new InetSocketAddress(port);
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw bad(spec, flag, "cannot resolve host '" + host + "'");
        }
    }

    /** HOST:PORT for display: what the user typed, or the bound address. */
    static String show(InetSocketAddress a) {
        String host = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    private static String num(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }
}
