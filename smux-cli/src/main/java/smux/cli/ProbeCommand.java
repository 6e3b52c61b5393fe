package smux.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import smux.api.Smux;

/** {@code smux probe HOST:PORT}: does the peer speak this library's protocol? */
@Command(name = "probe",
        description = {"Asks a peer whether it speaks this library's smux protocol (one probe frame).",
                "Exit 0: it does. 1: it does not (e.g. a plain xtaci/smux server, a web server). 2: no connection."},
        exitCodeOnExecutionException = Main.CONNECTION_ERROR)
final class ProbeCommand implements Callable<Integer> {
    @Parameters(paramLabel = "HOST:PORT", description = "The peer.")
    String target;

    @Option(names = "--timeout", paramLabel = "MILLIS", defaultValue = "3000", description = "How long to wait for the answer (default: ${DEFAULT-VALUE}).")
    long timeoutMillis;

    @Mixin
    SessionOptions session;

    @Override
    public Integer call() {
        InetSocketAddress address = SessionOptions.address(target);
        try {
            boolean smux = Smux.isSmux(address, session.builder().probeTimeout(Duration.ofMillis(timeoutMillis)).build());
            System.out.println(target + (smux ? " speaks smux (answered the probe)" : " does not answer the smux probe"));
            return smux ? 0 : 1;
        } catch (IOException e) {
            System.err.println("smux probe: cannot connect to " + target + ": " + Main.describe(e));
            return Main.CONNECTION_ERROR;
        }
    }
}
