package smux.it.consumer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.module.ModuleDescriptor;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.stream.Collectors;
import smux.api.Session;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;

/**
 * Prints what an application module sees: its own requires, the transports found, and one echo
 * over each of them. The module-path test runs it in a fresh JVM and reads the output.
 */
public final class ConsumerMain {
    private ConsumerMain() {
    }

    /**
     * @param args ignored
     * @throws Exception if an echo fails
     */
    public static void main(String[] args) throws Exception {
        ModuleDescriptor self = ConsumerMain.class.getModule().getDescriptor();
        System.out.println("module " + (self == null ? "<unnamed>" : self.name()));
        if (self != null) {
            System.out.println("requires " + self.requires().stream().map(ModuleDescriptor.Requires::name)
                    .filter(n -> !n.equals("java.base")).sorted().collect(Collectors.joining(",")));
        }
        System.out.println("transports " + String.join(",", Smux.transports()));
        for (String transport : Smux.transports()) {
            System.out.println("echo " + transport + " " + echo(transport));
        }
    }

    private static String echo(String transport) throws IOException, InterruptedException {
        SmuxConfig config = SmuxConfig.builder().transport(transport).build();
        try (ServerSocketChannel listener = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            Thread server = new Thread(() -> {
                try (SocketChannel c = listener.accept(); Session s = Smux.server(c, config);
                     SmuxStream stream = s.acceptStream(); InputStream in = stream.inputStream();
                     OutputStream out = stream.outputStream()) {
                    in.transferTo(out);
                    stream.closeWrite();
                } catch (IOException e) {
                    System.out.println("server failed: " + e);
                }
            });
            server.start();
            try (Session session = Smux.connect(listener.getLocalAddress(), config);
                 SmuxStream stream = session.openStream()) {
                stream.outputStream().write(("via " + transport).getBytes(StandardCharsets.UTF_8));
                stream.closeWrite();
                String back = new String(stream.inputStream().readAllBytes(), StandardCharsets.UTF_8);
                server.join(10_000);
                return back.equals("via " + transport) ? "ok" : "wrong: " + back;
            }
        }
    }
}
