package smux.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.doReturn;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import smux.api.spi.TransportProvider;

/**
 * How transports are found and chosen, at the ServiceLoader seam: {@code Transports.load} takes
 * the loader's {@link ServiceLoader.Provider}s (mocked here, so a provider can fail to
 * instantiate), {@code Transports.choose} picks one.
 */
class TransportsTest {

    // ------------------------------------------------------------------ load

    @Test
    void brokenProviderIsSetAsideWithItsError() {
        ServiceConfigurationError error = new ServiceConfigurationError("Provider Broken could not be instantiated");
        ServiceLoader.Provider<TransportProvider> broken = failing(BrokenTransport.class, error);
        TransportProvider socket = provider("socket", 10, true);

        List<Transports.Loaded> loaded = Transports.load(List.of(broken, found(socket)));

        assertEquals(2, loaded.size(), "a broken provider does not hide the others");
        Transports.Loaded first = loaded.get(0);
        assertEquals(BrokenTransport.class.getName(), first.type());
        assertNull(first.provider());
        assertSame(error, first.error());
        assertSame(socket, loaded.get(1).provider());
        assertNull(loaded.get(1).error());
    }

    @Test
    void providerFailingWithARuntimeOrLinkageErrorIsSetAsideToo() {
        ServiceLoader.Provider<TransportProvider> npe = failing(BrokenTransport.class, new IllegalStateException("static init"));
        ServiceLoader.Provider<TransportProvider> linkage = failing(BrokenTransport.class, new NoClassDefFoundError("jdk/Missing"));

        List<Transports.Loaded> loaded = Transports.load(List.of(npe, linkage));

        assertTrue(loaded.stream().allMatch(l -> l.provider() == null && l.error() != null));
    }

    @Test
    void loadedListIsImmutable() {
        List<Transports.Loaded> loaded = Transports.load(List.of(found(provider("socket", 10, true))));
        assertThrows(UnsupportedOperationException.class, () -> loaded.add(null));
    }

    @Test
    void brokenProviderDoesNotMatterWhenAnotherWorks() {
        ServiceLoader.Provider<TransportProvider> broken = failing(BrokenTransport.class,
                new ServiceConfigurationError("Provider Broken could not be instantiated"));
        TransportProvider nio = provider("nio", 5, true);

        assertSame(nio, Transports.choose(null, Transports.load(List.of(broken, found(nio)))));
    }

    @Test
    void brokenProviderIsReportedWhenNothingElseWorks() {
        ServiceConfigurationError error = new ServiceConfigurationError("Provider Broken could not be instantiated");
        ServiceLoader.Provider<TransportProvider> broken = failing(BrokenTransport.class, error);
        TransportProvider unavailable = provider("nio", 5, false);

        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Transports.choose(null, Transports.load(List.of(broken, found(unavailable)))));

        String m = e.getMessage();
        assertTrue(m.contains("no smux transport is available"), m);
        assertTrue(m.contains(BrokenTransport.class.getName() + " failed to load"), m);
        assertTrue(m.contains("could not be instantiated"), "the loader's own words are kept: " + m);
        assertTrue(m.contains("nio is not available"), m);
        assertTrue(Arrays.asList(e.getSuppressed()).contains(error), "the error is attached for its stack trace");
    }

    // ------------------------------------------------------------------ choose

    @Test
    void highestPriorityWins() {
        TransportProvider low = provider("nio", 5, true);
        TransportProvider high = provider("socket", 10, true);
        TransportProvider lowest = provider("other", -3, true);

        assertSame(high, Transports.choose(null, loaded(low, high, lowest)));
        assertSame(high, Transports.choose(null, loaded(high, lowest, low)), "discovery order does not matter");
    }

    @Test
    void unavailableProviderIsSkippedEvenAtHigherPriority() {
        TransportProvider unavailable = provider("epoll", 100, false);
        TransportProvider socket = provider("socket", 10, true);

        assertSame(socket, Transports.choose(null, loaded(unavailable, socket)));
    }

    @Test
    void providerWhoseAvailabilityCheckThrowsIsSkipped() {
        TransportProvider throwing = provider("epoll", 100, true);
        when(throwing.isAvailable()).thenThrow(new UnsatisfiedLinkError("no libepoll in java.library.path"));
        TransportProvider socket = provider("socket", 10, true);

        assertSame(socket, Transports.choose(null, loaded(throwing, socket)));
    }

    @Test
    void failedAvailabilityCheckIsReportedWhenNothingElseWorks() {
        TransportProvider throwing = provider("epoll", 100, true);
        when(throwing.isAvailable()).thenThrow(new IllegalStateException("kernel too old"));

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Transports.choose(null, loaded(throwing)));

        assertTrue(e.getMessage().contains("epoll failed its availability check"), e.getMessage());
        assertTrue(e.getMessage().contains("kernel too old"), e.getMessage());
    }

    @Test
    void forcedNamePicksThatProviderEvenAtLowerPriority() {
        TransportProvider socket = provider("socket", 10, true);
        TransportProvider nio = provider("nio", 5, true);

        assertSame(nio, Transports.choose("nio", loaded(socket, nio)));
        assertSame(socket, Transports.choose("socket", loaded(socket, nio)));
    }

    @Test
    void forcedNameDoesNotAskTheOthersWhetherTheyAreAvailable() {
        TransportProvider socket = provider("socket", 10, true);
        TransportProvider nio = provider("nio", 5, true);

        Transports.choose("nio", loaded(socket, nio));

        verify(socket, never()).isAvailable();
    }

    @Test
    void missingForcedNameNamesItThePropertyAndWhatToAdd() {
        TransportProvider socket = provider("socket", 10, true);

        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Transports.choose("quic", loaded(socket)));

        String m = e.getMessage();
        assertTrue(m.contains("'quic'"), "names the transport asked for: " + m);
        assertTrue(m.contains("-D" + Smux.TRANSPORT_PROPERTY) && m.contains("smux.transport"), "names the property: " + m);
        assertTrue(m.contains("SmuxConfig.transport"), "names the other way it can be forced: " + m);
        assertTrue(m.contains("smux-transport-socket or smux-transport-nio on the module path"), "says what to add: " + m);
        assertTrue(m.contains("found: socket"), "lists what was found instead: " + m);
    }

    @Test
    void forcedNameOfAnUnavailableProviderFailsRatherThanFallingBack() {
        TransportProvider socket = provider("socket", 10, true);
        TransportProvider nio = provider("nio", 5, false);

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Transports.choose("nio", loaded(socket, nio)));

        assertTrue(e.getMessage().contains("'nio'"), e.getMessage());
        assertTrue(e.getMessage().contains("nio is not available on this platform"), e.getMessage());
    }

    @Test
    void forcedNameIsCaseSensitive() {
        TransportProvider nio = provider("nio", 5, true);
        assertThrows(IllegalStateException.class, () -> Transports.choose("NIO", loaded(nio)));
    }

    @Test
    void nothingOnThePathSaysWhatToAdd() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Transports.choose(null, List.of()));

        String m = e.getMessage();
        assertTrue(m.startsWith("no smux transport is available"), m);
        assertTrue(m.contains("put smux-transport-socket or smux-transport-nio on the module path or class path"), m);
        assertFalse(m.contains("found:"), "nothing was found, so no empty list: " + m);
        assertEquals(0, e.getSuppressed().length);
    }

    @Test
    void configAndSystemPropertyFindNoTransportInTheApiModuleAlone() {
        // smux-api's own tests have no transport on the module path: the real ServiceLoader finds none
        assertTrue(Smux.transports().isEmpty(), Smux.transports()::toString);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Transports.choose(SmuxConfig.builder().transport("socket").build()));
        assertTrue(e.getMessage().contains("'socket'"), e.getMessage());
    }

    // ------------------------------------------------------------------ helpers

    private static TransportProvider provider(String name, int priority, boolean available) {
        TransportProvider p = mock(TransportProvider.class, name);
        when(p.name()).thenReturn(name);
        when(p.priority()).thenReturn(priority);
        when(p.isAvailable()).thenReturn(available);
        return p;
    }

    private static List<Transports.Loaded> loaded(TransportProvider... providers) {
        return Transports.load(Arrays.stream(providers).map(TransportsTest::found).toList());
    }

    @SuppressWarnings("unchecked")
    private static ServiceLoader.Provider<TransportProvider> found(TransportProvider provider) {
        ServiceLoader.Provider<TransportProvider> p = mock(ServiceLoader.Provider.class);
        doReturn(provider.getClass()).when(p).type();
        when(p.get()).thenReturn(provider);
        return p;
    }

    @SuppressWarnings("unchecked")
    private static ServiceLoader.Provider<TransportProvider> failing(Class<? extends TransportProvider> type, Throwable error) {
        ServiceLoader.Provider<TransportProvider> p = mock(ServiceLoader.Provider.class);
        doReturn(type).when(p).type();
        when(p.get()).thenThrow(error);
        return p;
    }

    /** Only its name is used: the type a broken provider entry declares. */
    static final class BrokenTransport implements TransportProvider {
        @Override
        public String name() {
            return "broken";
        }

        @Override
        public Session open(Socket socket, boolean client, SmuxConfig config) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Session open(SocketChannel channel, boolean client, SmuxConfig config) {
            throw new UnsupportedOperationException();
        }

        @Override
        public ProbeResult probe(Socket socket, SmuxConfig config) {
            throw new UnsupportedOperationException();
        }
    }
}
