package smux.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import smux.api.ProtocolException.Violation;

/** The public exceptions: what callers can rely on to tell the failures apart. */
class ExceptionsTest {

    @ParameterizedTest
    @EnumSource(Violation.class)
    void protocolExceptionCarriesItsViolationAndMessage(Violation v) {
        ProtocolException e = new ProtocolException(v, "stream 7: LENGTH 9 on a SYN");

        assertSame(v, e.violation());
        assertEquals(v + ": stream 7: LENGTH 9 on a SYN", e.getMessage(), "the message names the rule, then the details");
        assertNull(e.getCause());
    }

    @Test
    void protocolExceptionNeedsAViolation() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> new ProtocolException(null, "x"));
        assertEquals("violation", e.getMessage());
    }

    @Test
    void everySessionFailureIsAnIOException() {
        // callers catch IOException around stream calls; each of ours must be one
        assertInstanceOf(IOException.class, new ProtocolException(Violation.BAD_LENGTH, "x"));
        assertInstanceOf(IOException.class, new SessionClosedException("x"));
        assertInstanceOf(IOException.class, new StreamClosedException("x"));
        assertInstanceOf(IOException.class, new LimitExceededException("x"));
        assertInstanceOf(IOException.class, new AbandonedBytesException("x", 1, null));
    }

    @Test
    void abandonedBytesExceptionCarriesTheCountAndTheConnectionFailure() {
        IOException reset = new IOException("Connection reset");
        AbandonedBytesException e = new AbandonedBytesException("98304 committed bytes will not reach the peer", 98_304, reset);

        assertEquals(98_304, e.abandonedBytes());
        assertSame(reset, e.getCause());
        assertEquals("98304 committed bytes will not reach the peer", e.getMessage());
        assertNull(new AbandonedBytesException("timed out", 5_000_000_000L, null).getCause(), "a close that timed out has no cause");
        assertEquals(5_000_000_000L, new AbandonedBytesException("x", 5_000_000_000L, null).abandonedBytes(), "a long count");
        assertThrows(IllegalArgumentException.class, () -> new AbandonedBytesException("x", 0, null),
                "a close that kept every byte throws nothing");
    }

    @Test
    void sessionClosedExceptionKeepsTheProtocolErrorThatClosedTheSession() {
        ProtocolException cause = new ProtocolException(Violation.WRONG_VERSION, "got 1, session is 2");
        SessionClosedException e = new SessionClosedException("the peer broke the protocol", cause);

        assertEquals("the peer broke the protocol", e.getMessage());
        assertSame(cause, e.getCause());
        assertSame(Violation.WRONG_VERSION, ((ProtocolException) e.getCause()).violation());
        assertNull(new SessionClosedException("closed").getCause());
    }

    @Test
    void streamAndLimitExceptionsKeepTheirMessage() {
        assertEquals("stream 3 is closed", new StreamClosedException("stream 3 is closed").getMessage());
        assertEquals("maxStreams (4) reached", new LimitExceededException("maxStreams (4) reached").getMessage());
    }

    @Test
    void violationsCoverTheRulesOfThePeer() {
        // PROTOCOL.md lists these rules; a rename would break callers that switch on them
        for (String name : new String[] {"WRONG_VERSION", "UNKNOWN_COMMAND", "BAD_LENGTH", "UPDATE_IN_VERSION_1",
                "BAD_STREAM_ID", "BAD_SESSION_FRAME", "WINDOW_OVERRUN", "NEGATIVE_INFLIGHT", "CONTROL_BACKLOG",
                "TRUNCATED_FRAME", "TLS_RECORD"}) {
            assertTrue(Violation.valueOf(name) != null, name);
        }
    }
}
