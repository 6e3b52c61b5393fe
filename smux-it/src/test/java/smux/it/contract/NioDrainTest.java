package smux.it.contract;

/** Drain over the nio transport. */
class NioDrainTest extends DrainSuite {
    @Override
    String transport() {
        return "nio";
    }
}
