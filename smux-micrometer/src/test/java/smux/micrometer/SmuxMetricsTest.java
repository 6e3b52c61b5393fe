package smux.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import smux.api.Session;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;

/** The binder against real sessions over loopback, read through Micrometer's {@link SimpleMeterRegistry}. */
@Timeout(30)
class SmuxMetricsTest {
    private static final int BYTES = 200_000; // below the first window: the write completes before the read

    private final MeterRegistry registry = new SimpleMeterRegistry();
    private final SmuxMetrics metrics = new SmuxMetrics(Tags.of("service", "test"));
    private ServerSocketChannel listener;
    private Session client;
    private Session server;

    @BeforeEach
    void pair() throws IOException {
        listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        SmuxConfig config = SmuxConfig.builder().keepAliveDisabled().build();
        client = Smux.client(SocketChannel.open(listener.getLocalAddress()), config);
        server = Smux.server(listener.accept(), config);
    }

    @AfterEach
    void close() throws IOException {
        metrics.close();
        client.close();
        server.close();
        listener.close();
    }

    private double gauge(String name) {
        Gauge g = registry.find(name).tag("service", "test").gauge();
        assertNotNull(g, name + " is registered");
        return g.value();
    }

    private double counter(String name, String... tags) {
        FunctionCounter c = registry.find(name).tag("service", "test").tags(tags).functionCounter();
        assertNotNull(c, name + " is registered");
        return c.count();
    }

    private Set<String> smuxMeters() {
        return registry.getMeters().stream().map(m -> m.getId().getName()).filter(n -> n.startsWith("smux."))
                .collect(Collectors.toSet());
    }

    @Test
    void metersAppearWithConventionalNamesAndUnits() {
        metrics.bindTo(registry);
        assertEquals(SmuxMetrics.meterNames(), smuxMeters());
        for (Meter m : registry.getMeters()) {
            String name = m.getId().getName();
            assertTrue(name.matches("[a-z]+(\\.[a-z]+)+"), "dotted lower case: " + name);
            assertNotNull(m.getId().getBaseUnit(), name + " has a base unit");
            assertNotNull(m.getId().getDescription(), name + " is described");
        }
        assertEquals("bytes", registry.find("smux.bytes.sent").functionCounter().getId().getBaseUnit());
        assertEquals(0, gauge("smux.sessions"));
    }

    @Test
    void metersMoveWithTrafficAndStopWhenSessionsClose() throws Exception {
        metrics.bindTo(registry);
        metrics.monitor(client);
        metrics.monitor(server);
        metrics.monitor(server); // counted once
        assertEquals(2, gauge("smux.sessions"));
        assertEquals(2, counter("smux.sessions.monitored"));
        assertTrue(gauge("smux.memory.budget.capacity") > 0, "the process-wide budget, counted once");

        SmuxStream out = client.openStream();
        out.write(ByteBuffer.wrap(new byte[BYTES]));
        SmuxStream in = server.acceptStream(Duration.ofSeconds(10));
        assertEquals(2, gauge("smux.streams.open"));
        assertEquals(1, counter("smux.streams.opened", "origin", "local"));
        assertEquals(1, counter("smux.streams.opened", "origin", "peer"));
        assertEquals(0, counter("smux.streams.shed"), "an honest pair sheds nothing");
        assertTrue(gauge("smux.memory.reserved") > 0, "each open stream reserves receive memory");

        Thread.sleep(100); // the bytes wait unread: a stall on the local reader, over StallStats.MIN_STALL
        ByteBuffer dst = ByteBuffer.allocate(64 * 1024);
        long read = 0;
        while (read < BYTES) {
            dst.clear();
            read += in.read(dst);
        }
        assertEquals(BYTES, counter("smux.bytes.sent"));
        assertEquals(BYTES, counter("smux.bytes.received"));
        assertTrue(counter("smux.stall.time", "cause", "local.reader") >= 0.05, "seconds the bytes waited unread");
        assertTrue(counter("smux.stall.bytes", "cause", "local.reader") > 0);
        assertEquals(0, counter("smux.stall.time", "cause", "peer.window"), "the write fit in the window");

        out.close();
        in.close();
        client.close();
        server.close();
        assertEquals(0, gauge("smux.sessions"), "closed sessions are forgotten");
        assertEquals(0, gauge("smux.streams.open"));
        assertEquals(0, gauge("smux.memory.reserved"));
        assertEquals(BYTES, counter("smux.bytes.sent"), "counters keep the closed sessions' totals");
        assertEquals(BYTES, counter("smux.bytes.received"));
        assertEquals(1, counter("smux.streams.opened", "origin", "local"));
        assertTrue(counter("smux.stall.time", "cause", "local.reader") >= 0.05, "kept after the close");
        assertEquals(0, metrics.sessions());
    }

    @Test
    void closingTheBinderRemovesItsMeters() {
        metrics.bindTo(registry);
        SimpleMeterRegistry second = new SimpleMeterRegistry();
        metrics.bindTo(second);
        metrics.monitor(client);
        assertEquals(1, second.find("smux.sessions").gauge().value());
        metrics.close();
        assertEquals(Set.of(), smuxMeters());
        assertEquals(0, second.getMeters().size());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> metrics.monitor(server));
        assertTrue(e.getMessage().contains("make a new one"), e.getMessage());
    }
}
