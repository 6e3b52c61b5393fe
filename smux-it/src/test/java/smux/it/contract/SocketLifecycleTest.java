package smux.it.contract;

/** Lifecycle over the socket transport. */
class SocketLifecycleTest extends LifecycleSuite {
    @Override
    String transport() {
        return "socket";
    }
}
