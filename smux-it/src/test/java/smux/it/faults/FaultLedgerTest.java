package smux.it.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import org.junit.jupiter.api.Test;
import smux.api.LimitExceededException;
import smux.api.ProtocolException;
import smux.api.ProtocolException.Violation;
import smux.api.SessionClosedException;
import smux.api.StreamClosedException;

/** The allowed failures of the random-fault soak, and how a Toxiproxy taint is booked. */
class FaultLedgerTest {

    @Test
    void namedFailuresWithAMessageAreAllowed() {
        assertEquals("SessionClosedException", FaultLedger.kind(new SessionClosedException("the peer closed the connection")));
        assertEquals("SessionClosedException(SocketException)",
                FaultLedger.kind(new SessionClosedException("reset", new SocketException("Connection reset"))));
        assertEquals("SessionClosedException(EOFException)",
                FaultLedger.kind(new SessionClosedException("closed", new EOFException("end of stream"))));
        assertEquals("SessionClosedException(ProtocolException TRUNCATED_FRAME)", FaultLedger.kind(
                new SessionClosedException("cut", new ProtocolException(Violation.TRUNCATED_FRAME, "5 bytes short"))));
        assertEquals("SocketTimeoutException", FaultLedger.kind(new SocketTimeoutException("write timed out")));
        assertEquals("StreamClosedException", FaultLedger.kind(new StreamClosedException("stream 3 is closed")));
        assertEquals("LimitExceededException", FaultLedger.kind(new LimitExceededException("maxStreams 1024")));
    }

    @Test
    void anythingElseIsNot() {
        // a protocol error other than a cut connection means bytes arrived that were never sent
        assertNull(FaultLedger.kind(new SessionClosedException("bad",
                new ProtocolException(Violation.WRONG_VERSION, "frame version 166"))));
        assertNull(FaultLedger.kind(new SessionClosedException("odd", new IllegalStateException("bug"))));
        assertNull(FaultLedger.kind(new SessionClosedException("")));
        assertNull(FaultLedger.kind(new SocketTimeoutException()));
        assertNull(FaultLedger.kind(new IOException("plain")));
        assertNull(FaultLedger.kind(new IllegalStateException("runtime")));
        assertNull(FaultLedger.kind(new AssertionError("error")));
    }

    @Test
    void aTaintExcusesOnlyWhatAHoleInTheByteStreamExplains() {
        FaultLedger run = new FaultLedger(null);
        FaultLedger episode = new FaultLedger("episode");
        episode.corrupted.increment();
        episode.integrityAnomaly("a byte that was never sent");
        episode.failure("read", new SessionClosedException("bad", new ProtocolException(Violation.UNKNOWN_COMMAND, "0x9")));
        episode.anomaly("a stream hangs");
        run.merge(episode, "removing a toxic took 6 s");
        assertEquals(1, run.anomalies(), run::firstAnomalies);
        assertEquals(0, run.corrupted.sum());
        assertEquals(0, run.unexpectedFailures());
        assertEquals(1, run.taintedEpisodes.sum());
        assertEquals(2, run.taintedAnomalies.sum());

        FaultLedger clean = new FaultLedger("clean");
        clean.corrupted.increment();
        clean.integrityAnomaly("a byte that was never sent");
        clean.failure("read", new SessionClosedException("bad", new ProtocolException(Violation.UNKNOWN_COMMAND, "0x9")));
        run.merge(clean, null);
        assertEquals(3, run.anomalies(), run::firstAnomalies);
        assertEquals(1, run.corrupted.sum());
        assertEquals(1, run.unexpectedFailures());
    }
}
