package smux.examples;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Comparator;
import smux.api.Session;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.micrometer.SmuxMetrics;

/**
 * The Micrometer binder ({@code smux-micrometer}, optional) on a server that takes either protocol
 * version ({@link SmuxConfig#VERSION_AUTO}): a version 1 and a version 2 client each echo 1 MiB
 * through it, and the program prints the meters while the sessions are open and after they closed.
 * Build it as {@link EchoExample} says, then run (from the root of the project):
 *
 * <pre>
 * java --module-path smux-examples/target/smux-examples-0.1.0-SNAPSHOT.jar:smux-examples/target/lib -m smux.examples/smux.examples.MetricsExample
 * </pre>
 */
public final class MetricsExample {
    private static final int BYTES = 1 << 20;

    private MetricsExample() {
    }

    /**
     * Runs the server, the two clients and the printing in one process over loopback.
     *
     * @param args ignored
     * @throws Exception if anything fails
     */
    public static void main(String[] args) throws Exception {
        MeterRegistry registry = new SimpleMeterRegistry();
        SmuxMetrics metrics = new SmuxMetrics(Tags.of("role", "server"));
        metrics.bindTo(registry);

        SmuxConfig serverConfig = SmuxConfig.builder().version(SmuxConfig.VERSION_AUTO).build();
        try (ServerSocketChannel listener = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            Session[] servers = new Session[2];
            Session[] clients = new Session[2];
            for (int version = 1; version <= 2; version++) {
                clients[version - 1] = Smux.client(SocketChannel.open(listener.getLocalAddress()),
                        SmuxConfig.builder().version(version).build());
                servers[version - 1] = metrics.monitor(Smux.server(listener.accept(), serverConfig));
                Thread echo = echo(servers[version - 1]);
                try (SmuxStream stream = clients[version - 1].openStream()) {
                    Thread writer = new Thread(() -> write(stream), "writer");
                    writer.start();
                    long back = stream.inputStream().transferTo(OutputStream.nullOutputStream());
                    writer.join();
                    System.out.println("version " + version + " client: " + back + " bytes echoed");
                }
                echo.join();
            }
            System.out.println("\n-- while the sessions are open --");
            print(registry);
            for (int i = 0; i < 2; i++) {
                clients[i].close();
                servers[i].close();
            }
            System.out.println("\n-- after they closed (counters keep their totals, gauges drop) --");
            print(registry);
        }
        metrics.close();
    }

    /** One line per meter: name, tags, value and unit, sorted by name. */
    private static void print(MeterRegistry registry) {
        registry.getMeters().stream()
                .sorted(Comparator.comparing((Meter m) -> m.getId().getName()).thenComparing(m -> m.getId().getTags().toString()))
                .forEach(m -> {
                    StringBuilder tags = new StringBuilder();
                    for (Tag t : m.getId().getTags()) {
                        tags.append(tags.length() == 0 ? "" : ",").append(t.getKey()).append('=').append(t.getValue());
                    }
                    double value = m.measure().iterator().next().getValue();
                    System.out.printf("%-28s %-26s %14.0f %s%n", m.getId().getName(), "{" + tags + "}", value,
                            m.getId().getBaseUnit());
                });
    }

    private static void write(SmuxStream stream) {
        try {
            stream.outputStream().write(new byte[BYTES]);
            stream.closeWrite();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Echoes the session's first stream on a thread of its own. */
    private static Thread echo(Session session) {
        Thread t = new Thread(() -> {
            try (SmuxStream s = session.acceptStream(); InputStream in = s.inputStream()) {
                in.transferTo(s.outputStream());
                s.closeWrite();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, "echo");
        t.start();
        return t;
    }
}
