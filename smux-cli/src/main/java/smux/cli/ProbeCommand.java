package smux.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import smux.api.Smux;
import smux.api.SmuxConfig;

/**
 * {@code smux probe HOST:PORT}: does the peer speak this library's protocol, and in which version?
 *
 * <p>A probe frame carries the protocol version, and a server of the other version answers it by
 * closing the connection, as it would for any frame of the wrong version. So when the first probe
 * is refused promptly (before its timeout), a second probe with the other version, on a fresh
 * connection, tells "the versions differ" from "not smux". A peer that stays silent until the
 * timeout (a Go xtaci/smux server stops reading, whatever the version) gets no second probe.
 */
@Command(name = "probe", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, sortOptions = false,
        description = {"Asks a peer whether it speaks this library's smux protocol (one probe frame), and in which version.",
                "Exit 0: it does. 1: it does not (e.g. a plain xtaci/smux server, a web server). 2: no connection.",
                "3: it speaks smux, but the other protocol version (use --protocol)."})
final class ProbeCommand implements Callable<Integer> {
    static final int OTHER_VERSION = 3;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "HOST:PORT", description = "The peer.")
    String target;

    @Option(names = "--timeout", paramLabel = "MILLIS", defaultValue = "3000",
            description = "How long to wait for the answer (default: ${DEFAULT-VALUE}).")
    long timeoutMillis;

    @Option(names = "--protocol", paramLabel = "1|2", defaultValue = "2",
            description = "The protocol version of the probe (default: ${DEFAULT-VALUE}).")
    int protocol;

    @Option(names = "--transport", paramLabel = "socket|nio", description = "The transport that runs the probe (default: socket).")
    String transport;

    @Override
    public Integer call() {
        if (protocol != 1 && protocol != 2) {
            throw Flags.bad(spec, "--protocol", "must be 1 or 2 (the versions xtaci/smux speaks), got " + protocol);
        }
        Flags.range(spec, "--timeout", timeoutMillis, 1, 600_000, " milliseconds");
        SmuxConfig.Builder b = SmuxConfig.builder().probeTimeout(Duration.ofMillis(timeoutMillis));
        if (transport != null) {
            b.transport(Flags.transport(spec, "--transport", transport));
        }
        InetSocketAddress address = Flags.address(spec, "HOST:PORT", target);
        try {
            long t0 = System.nanoTime();
            boolean smux = Smux.isSmux(address, b.version(protocol).build());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            if (smux) {
                System.out.println(target + " speaks smux protocol version " + protocol + " (answered the probe in " + ms + " ms)");
                return 0;
            }
            if (ms < timeoutMillis * 9 / 10) {
                int other = 3 - protocol;
                if (Smux.isSmux(address, b.version(other).build())) {
                    System.out.println(target + " speaks smux protocol version " + other + ", not " + protocol
                            + ": the versions differ (use --protocol " + other + "; both probes answered in "
                            + (System.nanoTime() - t0) / 1_000_000 + " ms)");
                    return OTHER_VERSION;
                }
                System.out.println(target + " does not speak smux (it closed the connection or answered something else, in " + ms + " ms)");
                return Main.FAILED;
            }
            System.out.println(target + " does not answer the smux probe (no answer within " + timeoutMillis + " ms)");
            return Main.FAILED;
        } catch (IOException e) {
            System.err.println("smux probe: cannot connect to " + target + ": " + Main.describe(e));
            return Main.CONNECTION_ERROR;
        }
    }
}
