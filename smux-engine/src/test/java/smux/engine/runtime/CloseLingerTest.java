package smux.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.intThat;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link CloseLinger} at its seams, a Mockito socket, channel or input stream that ends, fails
 * or keeps sending on cue: the linger shuts the output, then ends at the peer's end, on a
 * failure, or at {@code closeTimeout} if the peer never closes; and a non-blocking caller gets
 * its turn back when nothing is waiting.
 */
@Timeout(30)
class CloseLingerTest {
    private static final Duration LONG = Duration.ofSeconds(20);
    private static final Duration SHORT = Duration.ofMillis(200);
    private final ByteBuffer scratch = ByteBuffer.allocate(1024);
    private final ReadableByteChannel in = mock(ReadableByteChannel.class);

    @Test
    void theLingerStartsByShuttingTheOutput() throws Exception {
        Socket socket = mock(Socket.class);
        SocketChannel channel = mock(SocketChannel.class);

        assertNotNull(CloseLinger.afterFlush(socket, LONG));
        assertNotNull(CloseLinger.afterFlush(channel, LONG));

        verify(socket).shutdownOutput();
        verify(channel).shutdownOutput();
    }

    @Test
    void aSocketThatCannotHalfCloseHasNoLinger() throws Exception {
        Socket tls = mock(Socket.class);
        doThrow(new UnsupportedOperationException("The method shutdownOutput() is not supported in SSLSocket"))
                .when(tls).shutdownOutput();
        Socket gone = mock(Socket.class);
        doThrow(new SocketException("Socket is closed")).when(gone).shutdownOutput();
        SocketChannel goneChannel = mock(SocketChannel.class);
        when(goneChannel.shutdownOutput()).thenThrow(new IOException("closed"));

        assertNull(CloseLinger.afterFlush(tls, LONG));
        assertNull(CloseLinger.afterFlush(gone, LONG));
        assertNull(CloseLinger.afterFlush(goneChannel, LONG));
    }

    @Test
    void theDeadlineIsCloseTimeoutAfterTheFlush() {
        long before = System.nanoTime();
        CloseLinger linger = CloseLinger.afterFlush(mock(Socket.class), SHORT);
        long after = System.nanoTime();

        assertTrue(linger.deadline() - before >= SHORT.toNanos());
        assertTrue(linger.deadline() - after <= SHORT.toNanos());
        assertTrue(linger.nanosLeft() <= SHORT.toNanos());
    }

    // ------------------------------------------------------------------ a non-blocking channel

    @Test
    void dropWaitingEndsAtThePeersEnd() throws Exception {
        when(in.read(any())).thenReturn(100, 100, -1);

        assertTrue(linger(LONG).dropWaiting(in, scratch, 10));

        verify(in, times(3)).read(scratch);
    }

    @Test
    void dropWaitingHandsBackWhenNothingIsWaiting() throws Exception {
        when(in.read(any())).thenReturn(100, 0);

        assertFalse(linger(LONG).dropWaiting(in, scratch, 10), "the caller waits for input and calls again");

        verify(in, times(2)).read(scratch);
    }

    @Test
    void dropWaitingHandsBackAfterItsReads() throws Exception {
        when(in.read(any())).thenReturn(100);

        assertFalse(linger(LONG).dropWaiting(in, scratch, 4), "other connections get a turn");

        verify(in, times(4)).read(scratch);
    }

    @Test
    void dropWaitingEndsWhenTheConnectionFails() throws Exception {
        when(in.read(any())).thenThrow(new IOException("Connection reset by peer (scripted)"));

        assertTrue(linger(LONG).dropWaiting(in, scratch, 10));
    }

    @Test
    void dropWaitingEndsAtTheDeadlineWhileThePeerKeepsSending() throws Exception {
        when(in.read(any())).thenReturn(100);
        CloseLinger linger = linger(SHORT);
        long start = System.nanoTime();

        while (!linger.dropWaiting(in, scratch, 4)) {
            Thread.sleep(1); // a caller that waits for readiness: it comes at once, the peer never stops
        }

        assertTrue(System.nanoTime() - start >= SHORT.toNanos() - TimeUnit.MILLISECONDS.toNanos(1),
                "the linger waited for the peer until closeTimeout");
        assertTrue(linger.nanosLeft() <= 0);
        assertTrue(linger.dropWaiting(in, scratch, 4), "and stays over");
    }

    // ------------------------------------------------------------------ a blocking stream

    @Test
    void dropUntilEndEndsAtThePeersEndAndWaitsNoLongerThanTheDeadline() throws Exception {
        Socket socket = mock(Socket.class);
        InputStream stream = mock(InputStream.class);
        when(stream.read(any())).thenReturn(10, 10, -1);

        linger(LONG).dropUntilEnd(socket, stream, new byte[64]);

        verify(stream, times(3)).read(any());
        verify(socket, times(3)).setSoTimeout(intThat(ms -> ms >= 1 && ms <= LONG.toMillis()));
    }

    @Test
    void dropUntilEndEndsWhenItsReadTimesOut() throws Exception {
        Socket socket = mock(Socket.class);
        InputStream stream = mock(InputStream.class);
        when(stream.read(any())).thenThrow(new SocketTimeoutException("Read timed out"));

        linger(LONG).dropUntilEnd(socket, stream, new byte[64]);

        verify(stream, times(1)).read(any());
    }

    @Test
    void dropUntilEndEndsAtTheDeadlineWhileThePeerKeepsSending() throws Exception {
        Socket socket = mock(Socket.class);
        InputStream stream = mock(InputStream.class);
        when(stream.read(any())).thenAnswer(i -> {
            Thread.sleep(1);
            return 1;
        });
        CloseLinger linger = linger(SHORT);
        long start = System.nanoTime();

        linger.dropUntilEnd(socket, stream, new byte[64]);

        assertTrue(System.nanoTime() - start >= SHORT.toNanos() - TimeUnit.MILLISECONDS.toNanos(1),
                "the linger waited for the peer until closeTimeout");
        assertTrue(linger.nanosLeft() <= 0);
    }

    @Test
    void aSocketClosedUnderTheLingerEndsIt() throws Exception {
        Socket socket = mock(Socket.class);
        doThrow(new SocketException("Socket is closed")).when(socket).setSoTimeout(anyInt());
        InputStream stream = mock(InputStream.class);

        linger(LONG).dropUntilEnd(socket, stream, new byte[64]);

        verify(stream, never()).read(any());
    }

    private static CloseLinger linger(Duration closeTimeout) {
        return CloseLinger.afterFlush(mock(Socket.class), closeTimeout);
    }
}
