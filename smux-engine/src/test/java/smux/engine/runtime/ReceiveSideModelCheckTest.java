package smux.engine.runtime;

import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Model-checked schedules of {@link ReceiveSide}: deliver vs read vs close vs fail (the scenarios
 * and the promises they check: {@link InboxScenarios}); then the same scenarios against flawed
 * variants of it, derived from its source at test time ({@link ReceiveSideFlaw}), each of which the
 * checker must find. The flaw that takes the
 * longest to find, the lost wake-up ReceiveSide had, is searched for in {@link LostWakeUpsModelCheckLongTest}.
 */
class ReceiveSideModelCheckTest {
    private static final int SCHEDULES = 50;
    /**
     * The most schedules a flaw search may take. A search stops at its first failing schedule, and
     * the checker's own random choices have fixed seeds, so each flaw takes the same number of
     * schedules on every run of one JDK; the figures beside each test were measured on JDK 17 and
     * 25 (they differ where the JDK's own classes differ). The cap is over ten times the largest.
     */
    private static final int FLAW_CAP = 500;

    @Test
    @Timeout(120)
    void bytesDeliveredInTurnsAreReadOnceInOrderAndReportedOnce() {
        ModelCheck.explore(SCHEDULES, () -> new InboxScenarios.DeliveredInTurns(Inbox::real));
    }

    @Test
    @Timeout(120)
    void consumptionIsReportedOncePerRequest() {
        ModelCheck.explore(SCHEDULES, () -> new InboxScenarios.ReportedOncePerRequest(Inbox::real));
    }

    @Test
    @Timeout(120)
    void aCloseDuringDeliveryEndsTheReaderAndDropsExactlyTheUnreadBytes() {
        ModelCheck.explore(SCHEDULES, () -> new InboxScenarios.CloseWhileDelivering(Inbox::real));
    }

    @Test
    @Timeout(120)
    void theSessionsEndDuringDeliveryEndsTheReaderWithItsError() {
        ModelCheck.explore(SCHEDULES, () -> new InboxScenarios.FailWhileDelivering(Inbox::real));
    }

    @Test
    @Timeout(120)
    void twoReadersShareTheBytesAndNeitherIsLeftWaiting() {
        ModelCheck.explore(SCHEDULES, () -> new InboxScenarios.TwoReaders(Inbox::real));
    }

    // ------------------------------------------------------------------ the checker catches each flaw

    /** Found in 30 schedules on JDK 17, 22 on JDK 25. */
    @Test
    @Timeout(120)
    void findsASignalBeforeTheBytesArePublished() {
        findsFlaw(ReceiveSideFlaw.SIGNAL_BEFORE_PUBLISH, InboxScenarios.DeliveredInTurns::new, "All unfinished threads are in deadlock");
    }

    /** Found in 2 schedules on JDK 17, 2 on JDK 25. */
    @Test
    @Timeout(120)
    void findsAnEmptinessCheckedAfterTheDirectCopy() {
        findsFlaw(ReceiveSideFlaw.EMPTY_CHECKED_AFTER_DIRECT_COPY, InboxScenarios.DeliveredInTurns::new,
                "All unfinished threads are in deadlock");
    }

    /** Found in 2 schedules on JDK 17, 2 on JDK 25. */
    @Test
    @Timeout(120)
    void findsAConsumptionReportedMoreThanOnce() {
        findsFlaw(ReceiveSideFlaw.REPORT_NOT_FORGOTTEN, InboxScenarios.ReportedOncePerRequest::new,
                "consumption was reported a wrong number of times");
    }

    /** Found in 11 schedules on JDK 17, 11 on JDK 25. */
    @Test
    @Timeout(120)
    void findsACloseThatLosesBytesAlreadyInTheReadersBuffer() {
        findsFlaw(ReceiveSideFlaw.CLOSE_FORGETS_DIRECT_BYTES, InboxScenarios.CloseWhileDelivering::new,
                "bytes read plus bytes dropped");
    }

    private static void findsFlaw(ReceiveSideFlaw flaw, Function<Inbox.Factory, ModelCheck.Scenario> scenario, String... symptoms) {
        findsFlaw(FLAW_CAP, flaw, scenario, symptoms);
    }

    static void findsFlaw(int cap, ReceiveSideFlaw flaw, Function<Inbox.Factory, ModelCheck.Scenario> scenario, String... symptoms) {
        Inbox.Factory variant = FlawedVariants.inboxes(flaw);
        ModelCheck.findsFlaw(cap, () -> scenario.apply(variant), () -> scenario.apply(Inbox::real), symptoms);
    }
}
