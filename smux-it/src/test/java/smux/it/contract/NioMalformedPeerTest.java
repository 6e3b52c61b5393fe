package smux.it.contract;

/** Malformed input against the NIO transport. */
class NioMalformedPeerTest extends MalformedPeerSuite {
    @Override
    String transport() {
        return "nio";
    }
}
