package smux.it.contract;

/** Malformed input against the socket transport. */
class SocketMalformedPeerTest extends MalformedPeerSuite {
    @Override
    String transport() {
        return "socket";
    }
}
