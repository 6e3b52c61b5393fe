package smux.it.contract;

/** Drain over the socket transport. */
class SocketDrainTest extends DrainSuite {
    @Override
    String transport() {
        return "socket";
    }
}
