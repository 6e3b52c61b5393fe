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
import smux.api.ProbeResult;
import smux.api.Smux;
import smux.api.SmuxConfig;

/**
 * {@code smux probe HOST:PORT}: does the peer speak this library's protocol, and in which version?
 * And if not, what did it do instead ({@link ProbeResult})?
 *
 * <p>A probe frame carries the protocol version, and a server of the other version answers it by
 * closing the connection, as it would for any frame of the wrong version, and as a Go xtaci/smux
 * server does for the probe's command, which it does not know. So when the first probe is closed
 * without an answer, a second probe with the other version, on a fresh connection, tells "the
 * versions differ" from "closed on the probe frame, as Go xtaci/smux does". A peer that stays
 * silent until the timeout gets no second probe.
 */
@Command(name = "probe", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        description = {"Asks a peer whether it speaks this library's smux protocol, and in which version.",
                "The probe frame is this library's extension: Go xtaci/smux closes the connection on it.",
                "Exit codes:",
                "  0  this library answered",
                "  1  not smux: another protocol, TLS, or no answer",
                "  2  no connection",
                "  3  this library, but the other protocol version (use --protocol)",
                "  4  the peer closed the connection on the probe frame, as Go xtaci/smux servers do:",
                "     a Go smux server is likely; the probe cannot tell more"})
final class ProbeCommand implements Callable<Integer> {
    static final int OTHER_VERSION = 3;
    static final int CLOSED_ON_PROBE = 4;

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
            ProbeResult result = Smux.probe(address, b.version(protocol).build());
            String in = " in " + (System.nanoTime() - t0) / 1_000_000 + " ms";
            switch (result) {
                case SMUX:
                    say("speaks smux protocol version " + protocol + " (this library: it answered the probe" + in + ")");
                    return 0;
                case CLOSED:
                    int other = 3 - protocol;
                    if (Smux.probe(address, b.version(other).build()) == ProbeResult.SMUX) {
                        say("speaks smux protocol version " + other + ", not " + protocol + ": the versions differ (use --protocol "
                                + other + "; both probes answered in " + (System.nanoTime() - t0) / 1_000_000 + " ms)");
                        return OTHER_VERSION;
                    }
                    say("closed the connection on the probe frame without answering" + in + ", as Go xtaci/smux servers do "
                            + "(the probe is this library's extension, which xtaci/smux takes as a protocol error): "
                            + "a Go smux server is likely, of either protocol version; the probe cannot tell more");
                    return CLOSED_ON_PROBE;
                case TLS:
                    say("speaks TLS, not plain smux: it answered the probe with a TLS record" + in
                            + " (an smux server behind TLS, such as 'smux tunnel server --tls'?)");
                    return ExitCode.FAILED;
                case NO_ANSWER:
                    say("does not answer the smux probe (no answer within " + timeoutMillis + " ms, the connection left open): "
                            + "not smux, or a Go xtaci/smux server that stopped reading without closing");
                    return ExitCode.FAILED;
                default:
                    say("does not speak smux (it answered something else" + in + ")");
                    return ExitCode.FAILED;
            }
        } catch (IOException e) {
            System.err.println("smux probe: cannot connect to " + target + ": " + Log.describe(e));
            return ExitCode.CONNECTION_ERROR;
        }
    }

    private void say(String what) {
        System.out.println(target + " " + what);
    }
}
