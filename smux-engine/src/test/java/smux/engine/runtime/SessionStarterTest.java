package smux.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;

import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import smux.api.MemoryBudget;
import smux.api.SmuxConfig;

/**
 * {@link SessionStarter} at its seams: a Mockito {@link Socket}, and a transport connection that
 * fails or answers on cue. Every start that fails must leave nothing behind: the socket closed,
 * and the session that was already created ended, which a version 1 session shows by giving its
 * reservation back to the memory budget (it takes one when it is created).
 */
@Timeout(30)
class SessionStarterTest {
    private final MemoryBudget budget = MemoryBudget.of(MemoryBudget.MIN_CAPACITY);
    private final SmuxConfig config = SmuxConfig.builder().version(1).keepAliveDisabled().memoryBudget(budget).build();
    private final Socket socket = mock(Socket.class);
    private final List<Thread> threads = new CopyOnWriteArrayList<>();

    @AfterEach
    void joinThreads() throws InterruptedException {
        for (Thread t : threads) {
            t.join(10_000);
            assertFalse(t.isAlive(), t + " ended");
        }
    }

    @Test
    void aStartedSessionRunsItsConnectionOnceAndHoldsItsMemory() throws Exception {
        ScriptedConnection connection = new ScriptedConnection(null);

        SmuxSession session = SessionStarter.start(socket, true, config, "test", connection::connect);

        assertEquals(1, connection.launches);
        assertFalse(session.isClosed());
        assertTrue(budget.used() > 0, "the running session holds its reservation");
        verify(socket).setTcpNoDelay(true);
        verify(socket, never()).close();
        session.close();
        assertEquals(0, budget.used());
    }

    @Test
    void aSocketThatFailsBeforeTheSessionExistsIsClosed() throws Exception {
        SocketException closed = new SocketException("Socket is closed");
        doThrow(closed).when(socket).setTcpNoDelay(true);
        AtomicReference<SessionLink> connected = new AtomicReference<>();

        IOException e = assertThrows(IOException.class, () -> SessionStarter.start(socket, true, config, "test",
                link -> {
                    connected.set(link);
                    return new ScriptedConnection(null);
                }));

        assertSame(closed, e);
        verify(socket).close();
        assertNull(connected.get(), "no connection was set up");
        assertEquals(0, budget.used());
    }

    @Test
    void aConnectionThatCannotBeSetUpClosesTheSocketAndEndsTheSession() throws Exception {
        IOException refused = new IOException("no selector (scripted)");
        AtomicReference<SessionLink> connected = new AtomicReference<>();

        IOException e = assertThrows(IOException.class, () -> SessionStarter.start(socket, true, config, "test",
                link -> {
                    connected.set(link);
                    assertTrue(budget.used() > 0, "the session exists and holds its reservation");
                    throw refused;
                }));

        assertSame(refused, e);
        verify(socket).close();
        assertEquals(0, budget.used(), "the session that never ran gave its memory back");
        assertFalse(connected.get().wantsInput(), "the session is over");
    }

    @Test
    void aConnectionThatCannotLaunchIsShutAndTheSessionEnds() throws Exception {
        SessionStarter.Connection connection = mock(SessionStarter.Connection.class);
        IllegalStateException rejected = new IllegalStateException("the thread factory refused (scripted)");
        doThrow(rejected).when(connection).launch();

        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> SessionStarter.start(socket, true, config, "test", link -> connection));

        assertSame(rejected, e, "the transport's own failure reaches the caller");
        verify(socket).close();
        verify(connection).shutdown(false); // the session, ended, told its transport to close now
        verify(connection, never()).forceClose();
        assertEquals(0, budget.used());
    }

    @Test
    void aProbeThatFailsClosesTheSessionAndTheSocket() throws Exception {
        SmuxConfig probing = config.toBuilder().probePeer(true).build();
        ScriptedConnection connection = new ScriptedConnection(SessionLink::onEof); // the peer hangs up

        IOException e = assertThrows(IOException.class,
                () -> SessionStarter.start(socket, true, probing, "test", connection::connect));

        assertTrue(e.getMessage().contains("does not speak this protocol"), e.getMessage());
        assertTrue(connection.shutdowns > 0, "the session told its connection to close");
        verify(socket, times(1)).close();
        assertEquals(0, budget.used());
        assertFalse(connection.link.wantsInput(), "the session is over");
    }

    /**
     * A connection that plays its peer on a thread of its own when launched, and closes (tells
     * the session, from its own thread, as a transport does) when the session shuts it down.
     */
    private final class ScriptedConnection implements SessionStarter.Connection {
        private final Consumer<SessionLink> peer;
        volatile SessionLink link;
        volatile int launches;
        volatile int shutdowns;

        ScriptedConnection(Consumer<SessionLink> peer) {
            this.peer = peer;
        }

        SessionStarter.Connection connect(SessionLink l) {
            link = l;
            return this;
        }

        @Override
        public void launch() {
            launches++;
            if (peer != null) {
                run("scripted-peer", () -> peer.accept(link));
            }
        }

        @Override
        public void shutdown(boolean flush) {
            shutdowns++;
            run("scripted-close", link::connectionClosed);
        }

        private void run(String name, Runnable r) {
            Thread t = new Thread(r, name);
            threads.add(t);
            t.start();
        }

        @Override
        public void transmitReady() {
        }

        @Override
        public void inputReady() {
        }

        @Override
        public void forceClose() {
            link.connectionClosed();
        }

        @Override
        public long bytesWritten() {
            return 0;
        }
    }
}
