package smux.it.contract;

/** The contract over the blocking-socket transport. */
class SocketContractTest extends ContractSuite {
    @Override
    String transport() {
        return "socket";
    }
}
