package smux.cli;

import java.time.Duration;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import smux.api.SmuxConfig;

/**
 * The session options several commands share; mixed into each. {@link #builder} checks them
 * (naming the flag in any complaint) before the command starts anything.
 */
final class SessionOptions {
    @Option(names = "--protocol", paramLabel = "1|2|auto",
            description = "smux protocol version: 1 or 2, both ends the same; a server may take auto, the version of each "
                    + "client's first frame (default: auto for servers, 2 for clients).")
    String protocol;

    @Option(names = "--window", paramLabel = "tuned|BYTES", defaultValue = "tuned",
            description = "Per-stream receive window, version 2: tuned (the default: each stream's window grows from "
                    + "256 KiB up to 32 MiB while its reader keeps up) or a fixed size in bytes, e.g. 524288.")
    String window;

    @Option(names = "--frame", paramLabel = "BYTES", defaultValue = "32768",
            description = "Largest data frame this side sends (default: ${DEFAULT-VALUE}).")
    int frame;

    @Option(names = "--transport", paramLabel = "socket|nio",
            description = "The transport (default: socket, a reader and a writer thread per session; nio: one selector thread for all).")
    String transport;

    @Option(names = "--keepalive", paramLabel = "SECONDS", defaultValue = "10",
            description = "Keepalive interval; the timeout is three times it (default: ${DEFAULT-VALUE}; 0 disables).")
    int keepalive;

    /** @return whether the NIO transport was asked for (it needs channels, so no TLS) */
    boolean nio() {
        return "nio".equals(transport);
    }

    /**
     * Checks every value, then builds.
     *
     * @param accepting whether the sessions are servers' (which may, and by default do, take the
     *     version of each client's first frame)
     */
    SmuxConfig.Builder builder(CommandSpec spec, boolean accepting) {
        int version = version(spec, accepting);
        Integer fixedWindow = null;
        if (!"tuned".equals(window)) {
            int w;
            try {
                w = Integer.parseInt(window);
            } catch (NumberFormatException e) {
                throw Flags.bad(spec, "--window", "must be tuned or a size in bytes, got " + window);
            }
            Flags.range(spec, "--window", w, 1024, 1 << 30, " bytes");
            fixedWindow = w;
        }
        Flags.range(spec, "--frame", frame, 1, SmuxConfig.MAX_FRAME_SIZE, " bytes");
        Flags.range(spec, "--keepalive", keepalive, 0, 86_400, " seconds (0 disables it)");
        if (transport != null) {
            transport = Flags.transport(spec, "--transport", transport);
        }
        SmuxConfig.Builder b = SmuxConfig.builder().version(version).maxFrameSize(frame);
        if (fixedWindow != null) {
            b.streamWindow(fixedWindow);
        }
        if (transport != null) {
            b.transport(transport);
        }
        if (keepalive == 0) {
            b.keepAliveDisabled();
        } else {
            b.keepAlive(Duration.ofSeconds(keepalive), Duration.ofSeconds(3L * keepalive));
        }
        return b;
    }

    private int version(CommandSpec spec, boolean accepting) {
        String p = protocol == null ? (accepting ? "auto" : "2") : protocol.trim();
        switch (p) {
            case "1": return 1;
            case "2": return 2;
            case "auto":
                if (!accepting) {
                    throw Flags.bad(spec, "--protocol", "auto is for servers (they take the version of each client's first "
                            + "frame); a client must say 1 or 2");
                }
                return SmuxConfig.VERSION_AUTO;
            default:
                throw Flags.bad(spec, "--protocol", "must be 1 or 2 (the versions xtaci/smux speaks)"
                        + (accepting ? " or auto" : "") + ", got " + protocol);
        }
    }

    /** @return "1", "2", or "auto (1 or 2, as each client speaks)": for the start-up line */
    static String protocolName(SmuxConfig config) {
        return config.versionAuto() ? "auto (1 or 2, as each client speaks)" : Integer.toString(config.version());
    }
}
