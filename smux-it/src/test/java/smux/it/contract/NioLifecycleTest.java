package smux.it.contract;

/** Lifecycle over the NIO transport. */
class NioLifecycleTest extends LifecycleSuite {
    @Override
    String transport() {
        return "nio";
    }
}
