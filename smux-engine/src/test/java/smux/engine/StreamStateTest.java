package smux.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static smux.engine.StreamState.CLOSED;
import static smux.engine.StreamState.LOCAL_CLOSED;
import static smux.engine.StreamState.OPEN;
import static smux.engine.StreamState.REMOTE_CLOSED;
import static smux.engine.StreamState.Input.RECV_FIN;
import static smux.engine.StreamState.Input.SEND_FIN;

import java.util.EnumSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The stream state machine: every (state, input) pair, and what each state allows. */
class StreamStateTest {

    /** The expected table, written out independently of {@link StreamState}'s. null = refused. */
    static Stream<Arguments> table() {
        return Stream.of(
                Arguments.of(OPEN, SEND_FIN, LOCAL_CLOSED),
                Arguments.of(OPEN, RECV_FIN, REMOTE_CLOSED),
                Arguments.of(LOCAL_CLOSED, SEND_FIN, null),
                Arguments.of(LOCAL_CLOSED, RECV_FIN, CLOSED),
                Arguments.of(REMOTE_CLOSED, SEND_FIN, CLOSED),
                Arguments.of(REMOTE_CLOSED, RECV_FIN, REMOTE_CLOSED),
                Arguments.of(CLOSED, SEND_FIN, null),
                Arguments.of(CLOSED, RECV_FIN, CLOSED));
    }

    @ParameterizedTest(name = "{0} --{1}--> {2}")
    @MethodSource("table")
    void transition(StreamState from, StreamState.Input input, StreamState expected) {
        assertEquals(expected, from.next(input));
    }

    @Test
    void theTableCoversEveryPair() {
        assertEquals(StreamState.values().length * StreamState.Input.values().length, table().count());
    }

    @Test
    void whoMayWriteInEachState() {
        assertEquals(EnumSet.of(OPEN, REMOTE_CLOSED), states(StreamState::canWrite));
        assertEquals(EnumSet.of(OPEN, LOCAL_CLOSED), states(StreamState::peerMayWrite));
    }

    @Test
    void sendFinIsRefusedExactlyWhereTheApplicationMayNoLongerWrite() {
        for (StreamState s : StreamState.values()) {
            assertEquals(s.canWrite(), s.next(SEND_FIN) != null, s.name());
        }
    }

    private static EnumSet<StreamState> states(java.util.function.Predicate<StreamState> p) {
        EnumSet<StreamState> out = EnumSet.noneOf(StreamState.class);
        for (StreamState s : StreamState.values()) {
            if (p.test(s)) {
                out.add(s);
            }
        }
        return out;
    }
}
