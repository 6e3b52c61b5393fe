package smux.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.channels.SocketChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * The entry point's argument checks. They run before a transport is looked up: smux-api's own
 * tests have no transport on the module path, so a check that came after the lookup would show
 * up here as "no smux transport is available" instead of the caller's real mistake.
 */
@Timeout(10)
class SmuxTest {
    private static final SmuxConfig CONFIG = SmuxConfig.defaults();

    private ServerSocket listener;
    private Socket connected;
    private Socket accepted;

    @BeforeEach
    void connectLoopback() throws IOException {
        listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        connected = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
        accepted = listener.accept();
    }

    @AfterEach
    void closeAll() throws IOException {
        connected.close();
        accepted.close();
        listener.close();
    }

    @Test
    void unconnectedSocketIsRejectedWithWhatToDo() {
        for (Executable call : new Executable[] {
                () -> Smux.client(new Socket(), CONFIG),
                () -> Smux.server(new Socket(), CONFIG),
                () -> Smux.isSmux(new Socket()),
                () -> Smux.isSmux(new Socket(), CONFIG)}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
            assertTrue(e.getMessage().contains("must be connected and open"), e.getMessage());
            assertTrue(e.getMessage().contains("connect it first, or use Smux.connect"), e.getMessage());
        }
    }

    @Test
    void closedSocketIsRejected() throws IOException {
        connected.close();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Smux.client(connected, CONFIG));
        assertTrue(e.getMessage().contains("must be connected and open"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Smux.server(connected, CONFIG));
        assertThrows(IllegalArgumentException.class, () -> Smux.isSmux(connected, CONFIG));
    }

    @Test
    void unconnectedChannelIsRejectedWithWhatToDo() throws IOException {
        try (SocketChannel channel = SocketChannel.open()) {
            for (Executable call : new Executable[] {
                    () -> Smux.client(channel, CONFIG),
                    () -> Smux.server(channel, CONFIG)}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
                assertTrue(e.getMessage().contains("must be connected and open: finish connecting it first"), e.getMessage());
            }
        }
    }

    @Test
    void closedChannelIsRejected() throws IOException {
        SocketChannel channel = SocketChannel.open(listener.getLocalSocketAddress());
        channel.close();
        assertThrows(IllegalArgumentException.class, () -> Smux.client(channel, CONFIG));
        assertThrows(IllegalArgumentException.class, () -> Smux.server(channel, CONFIG));
    }

    @Test
    void nullConnectionIsRejectedByName() {
        assertNullNamed("socket", () -> Smux.client((Socket) null, CONFIG));
        assertNullNamed("socket", () -> Smux.server((Socket) null, CONFIG));
        assertNullNamed("socket", () -> Smux.isSmux((Socket) null));
        assertNullNamed("channel", () -> Smux.client((SocketChannel) null, CONFIG));
        assertNullNamed("channel", () -> Smux.server((SocketChannel) null, CONFIG));
        assertNullNamed("address", () -> Smux.connect(null, CONFIG));
        assertNullNamed("address", () -> Smux.isSmux((InetSocketAddress) null, CONFIG));
    }

    @Test
    void nullConfigIsRejectedByName() throws IOException {
        assertNullNamed("config", () -> Smux.client(connected, null));
        assertNullNamed("config", () -> Smux.server(accepted, null));
        assertNullNamed("config", () -> Smux.isSmux(connected, null));
        try (SocketChannel channel = SocketChannel.open(listener.getLocalSocketAddress())) {
            assertNullNamed("config", () -> Smux.client(channel, null));
            assertNullNamed("config", () -> Smux.server(channel, null));
        }
        assertNullNamed("config", () -> Smux.connect(listener.getLocalSocketAddress(), null));
        assertNullNamed("config", () -> Smux.isSmux(listener.getLocalSocketAddress(), null));
        assertFalse(connected.isClosed(), "a rejected call leaves the caller's socket alone");
    }

    @Test
    void unresolvedAddressFailsAsUnknownHost() {
        InetSocketAddress nowhere = InetSocketAddress.createUnresolved("no-such-host.invalid", 7000);
        UnknownHostException e = assertThrows(UnknownHostException.class, () -> Smux.connect(nowhere, CONFIG));
        assertTrue(e.getMessage().contains("no-such-host.invalid"), e.getMessage());
        assertThrows(UnknownHostException.class, () -> Smux.isSmux(nowhere, CONFIG));
    }

    @Test
    void validArgumentsWithoutATransportSayWhatToAdd() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Smux.client(connected, CONFIG));
        assertTrue(e.getMessage().contains("put smux-transport-socket or smux-transport-nio on the module path"),
                e.getMessage());
        assertFalse(connected.isClosed(), "no session started, so the caller still owns the socket");
    }

    @Test
    void transportPropertyNameIsTheDocumentedOne() {
        assertEquals("smux.transport", Smux.TRANSPORT_PROPERTY);
    }

    private static void assertNullNamed(String name, Executable call) {
        NullPointerException e = assertThrows(NullPointerException.class, call);
        assertEquals(name, e.getMessage());
    }
}
