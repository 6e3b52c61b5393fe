package smux.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code smux tunnel}: port forwarding over one smux session, kcptun-style. Each TCP connection
 * accepted by the client side becomes one stream; the server side opens a TCP connection to the
 * target for each stream and pipes the bytes. Streams carry raw bytes, so either side can be a Go
 * program that does the same with xtaci/smux.
 */
@Command(name = "tunnel", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Forwards TCP connections over one smux session (kcptun-style), optionally over TLS.",
                "Run 'smux tunnel server' at the far end and 'smux tunnel client' at the near end."},
        subcommands = {TunnelServerCommand.class, TunnelClientCommand.class})
final class TunnelCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
