package smux.it.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import smux.api.Session;
import smux.api.SessionClosedException;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.it.OwnThreads;

/**
 * {@link smux.api.Session#drain}: streams in flight finish, nothing new starts, and the drain
 * ends at its deadline even when a stream never does.
 */
abstract class DrainSuite {
    abstract String transport();

    @Test
    @Timeout(60)
    void streamsInFlightFinishInBothDirections() throws Exception {
        byte[] request = Bytes.random(3 << 20, 1);
        try (SessionPair p = SessionPair.open(transport())) {
            SmuxStream client = p.client.openStream();
            client.outputStream().write(request, 0, 1024);
            SmuxStream server = p.server.acceptStream(Duration.ofSeconds(5));

            // the server drains while the transfer is under way in both directions
            CompletableFuture<Boolean> drain = OwnThreads.supply(() -> drainUnchecked(p.server, Duration.ofSeconds(30)));
            assertTrue(Bytes.await(5000, () -> openFails(p)), "drain did not start");
            CompletableFuture<String[]> echoed = OwnThreads.supply(() -> {
                try {
                    return Bytes.drain(client.inputStream());
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            CompletableFuture<Void> sending = OwnThreads.run(() -> {
                try {
                    client.outputStream().write(request, 1024, request.length - 1024);
                    client.closeWrite();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            try (InputStream in = server.inputStream(); OutputStream out = server.outputStream()) {
                in.transferTo(out); // an echo: data flows both ways during the drain
                server.closeWrite();
            } // closing the server's stream is what finishes it

            sending.get(20, TimeUnit.SECONDS);
            String[] back = echoed.get(20, TimeUnit.SECONDS);
            assertEquals(Long.toString(request.length), back[1]);
            assertEquals(Bytes.sha256(request), back[0], "every byte came back");
            assertTrue(drain.get(20, TimeUnit.SECONDS), "every stream finished before the deadline");
            assertTrue(p.server.isClosed(), "the drain closed the session");
            assertTrue(p.server.closeCause().isEmpty(), "a drain is a clean local close");
            assertTrue(Bytes.await(5000, p.client::isClosed), "the peer learns at the end, from the closed connection");
        }
    }

    @Test
    @Timeout(60)
    void newOpensAndAcceptsFailWithAClearExceptionAndThePeersNewStreamsAreRefused() throws Exception {
        try (SessionPair p = SessionPair.open(transport())) {
            SmuxStream inFlight = p.client.openStream();
            inFlight.outputStream().write(1);
            SmuxStream held = p.server.acceptStream(Duration.ofSeconds(5));
            assertEquals(1, held.inputStream().read());

            // a stream the peer opened that the server has not accepted yet is refused by the drain
            SmuxStream notYetAccepted = p.client.openStream();
            notYetAccepted.outputStream().write(1);
            assertTrue(Bytes.await(5000, () -> p.server.streamCount() == 2), "the second stream waits in the backlog");
            CompletableFuture<Boolean> drain = OwnThreads.supply(() -> drainUnchecked(p.server, Duration.ofSeconds(30)));
            assertTrue(Bytes.await(5000, () -> openFails(p)), "drain did not start");

            SessionClosedException accept = assertThrows(SessionClosedException.class, p.server::acceptStream);
            assertTrue(accept.getMessage().contains("draining"), accept.getMessage());
            SessionClosedException open = assertThrows(SessionClosedException.class, p.server::openStream);
            assertTrue(open.getMessage().contains("draining") && open.getMessage().contains("new session"), open.getMessage());
            assertFalse(p.server.isClosed(), "a draining session is still open");

            notYetAccepted.setReadTimeout(Duration.ofSeconds(5));
            assertEquals(-1, notYetAccepted.inputStream().read(), "the unaccepted stream is answered with FIN");
            SmuxStream openedDuringDrain = p.client.openStream();
            openedDuringDrain.outputStream().write(new byte[100]);
            openedDuringDrain.setReadTimeout(Duration.ofSeconds(5));
            assertEquals(-1, openedDuringDrain.inputStream().read(), "a stream opened during the drain is refused with FIN");

            // the stream in flight still works both ways until it is closed
            inFlight.outputStream().write(2);
            assertEquals(2, held.inputStream().read());
            held.outputStream().write(3);
            assertEquals(3, inFlight.inputStream().read());
            assertFalse(drain.isDone());
            held.close();
            assertTrue(drain.get(10, TimeUnit.SECONDS));
            assertTrue(p.server.isClosed());
        }
    }

    @Test
    @Timeout(30)
    void anAcceptWaitingWhenTheDrainStartsFails() throws Exception {
        try (SessionPair p = SessionPair.open(transport())) {
            p.client.openStream().outputStream().write(1);
            SmuxStream held = p.server.acceptStream(Duration.ofSeconds(5));
            CompletableFuture<Object> waiting = OwnThreads.supply(() -> ContractSuite.catching(p.server::acceptStream));
            java.util.concurrent.locks.LockSupport.parkNanos(200_000_000); // let it wait (it fails the same either way)
            CompletableFuture<Boolean> drain = OwnThreads.supply(() -> drainUnchecked(p.server, Duration.ofSeconds(30)));
            SessionClosedException e = assertInstanceOf(SessionClosedException.class, waiting.get(10, TimeUnit.SECONDS));
            assertTrue(e.getMessage().contains("draining"), e.getMessage());
            held.close();
            assertTrue(drain.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    @Timeout(30)
    void drainReturnsAtItsDeadlineWhenAStreamNeverEnds() throws Exception {
        SmuxConfig.Builder config = SmuxConfig.builder().closeTimeout(Duration.ofMillis(200));
        try (SessionPair p = SessionPair.open(transport(), config)) {
            SmuxStream forever = p.client.openStream();
            forever.outputStream().write(1);
            SmuxStream held = p.server.acceptStream(Duration.ofSeconds(5));
            long t0 = System.nanoTime();
            assertFalse(p.server.drain(Duration.ofMillis(500)), "a stream was cut at the deadline");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 450 && ms < 3000, "drain took " + ms + " ms for a 500 ms deadline");
            assertTrue(p.server.isClosed());
            assertFalse(held.isOpen(), "the cut stream is closed");
            assertTrue(Bytes.await(5000, p.client::isClosed));
        }
    }

    @Test
    @Timeout(30)
    void anInterruptEndsTheDrainAndIsKept() throws Exception {
        try (SessionPair p = SessionPair.open(transport())) {
            p.client.openStream().outputStream().write(1);
            p.server.acceptStream(Duration.ofSeconds(5));
            Thread.currentThread().interrupt();
            long t0 = System.nanoTime();
            boolean finished = p.server.drain(Duration.ofSeconds(60));
            boolean flag = Thread.interrupted();
            assertFalse(finished);
            assertTrue(flag, "the interrupt flag is set again");
            assertTrue((System.nanoTime() - t0) / 1_000_000 < 5000, "the interrupt ended the wait");
            assertTrue(p.server.isClosed());
            assertThrows(IllegalArgumentException.class, () -> p.client.drain(Duration.ofMillis(-1)));
            p.client.drain(Duration.ZERO);
            assertTrue(p.client.isClosed(), "drain(0) closes at once");
        }
    }

    /** A drain for a {@code Supplier}: a close that dropped committed bytes fails the test's future. */
    private static boolean drainUnchecked(Session s, Duration timeout) {
        try {
            return s.drain(timeout);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static boolean openFails(SessionPair p) {
        try {
            p.server.openStream().close();
            return false;
        } catch (java.io.IOException e) {
            return e.getMessage().contains("draining");
        }
    }
}
