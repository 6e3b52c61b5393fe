package smux.cli;

import java.net.InetSocketAddress;
import java.time.Duration;
import picocli.CommandLine.Option;
import smux.api.SmuxConfig;

/**
 * The session options several commands share; mixed into each. It carries the help option too:
 * picocli's standard help mixin would also add {@code --version}, which here is the protocol's.
 */
final class SessionOptions {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Option(names = "--version", paramLabel = "1|2", description = "Protocol version (default: ${DEFAULT-VALUE}); both ends must agree.",
            defaultValue = "2")
    int version;

    @Option(names = "--window", paramLabel = "BYTES", description = "Per-stream receive window, version 2 (default: ${DEFAULT-VALUE}).",
            defaultValue = "524288")
    int window;

    @Option(names = "--frame", paramLabel = "BYTES", description = "Largest data frame this side sends (default: ${DEFAULT-VALUE}).",
            defaultValue = "32768")
    int frame;

    @Option(names = "--transport", paramLabel = "socket|nio", description = "Force a transport (default: the best available).")
    String transport;

    @Option(names = "--keepalive", paramLabel = "SECONDS", description = "Keepalive interval; the timeout is three times it (default: ${DEFAULT-VALUE}; 0 disables).",
            defaultValue = "10")
    int keepalive;

    SmuxConfig.Builder builder() {
        SmuxConfig.Builder b = SmuxConfig.builder().version(version).streamWindow(window).maxFrameSize(frame);
        if (transport != null) {
            b.transport(transport);
        }
        if (keepalive <= 0) {
            b.keepAliveDisabled();
        } else {
            b.keepAlive(Duration.ofSeconds(keepalive), Duration.ofSeconds(3L * keepalive));
        }
        return b;
    }

    SmuxConfig config() {
        return builder().build();
    }

    /** Parses HOST:PORT (or :PORT for all interfaces, [v6]:PORT). */
    static InetSocketAddress address(String s) {
        int colon = s.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("'" + s + "' is not HOST:PORT");
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + s + "': the port must be a number");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("'" + s + "': the port must be between 0 and 65535");
        }
        return host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
    }
}
