package smux.it.contract;

/** The contract over the NIO transport. */
class NioContractTest extends ContractSuite {
    @Override
    String transport() {
        return "nio";
    }
}
