package smux.engine.runtime;

import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import smux.engine.runtime.FlawedReceiveSide.Flaw;

/**
 * Model-checked schedules of {@link ReceiveSide}: deliver vs read vs close vs fail (the scenarios
 * and the promises they check: {@link InboxScenarios}); then the same scenarios against
 * {@link FlawedReceiveSide}, each flaw of which the checker must find. The flaw that takes the
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
        findsFlaw(Flaw.SIGNAL_BEFORE_PUBLISH, InboxScenarios.DeliveredInTurns::new, "All unfinished threads are in deadlock");
    }

    /** Found in 2 schedules on JDK 17, 2 on JDK 25. */
    @Test
    @Timeout(120)
    void findsAnEmptinessCheckedAfterTheDirectCopy() {
        findsFlaw(Flaw.EMPTY_CHECKED_AFTER_DIRECT_COPY, InboxScenarios.DeliveredInTurns::new,
                "All unfinished threads are in deadlock");
    }

    /** Found in 2 schedules on JDK 17, 2 on JDK 25. */
    @Test
    @Timeout(120)
    void findsAConsumptionReportedMoreThanOnce() {
        findsFlaw(Flaw.REPORT_NOT_FORGOTTEN, InboxScenarios.ReportedOncePerRequest::new,
                "consumption was reported a wrong number of times");
    }

    /** Found in 11 schedules on JDK 17, 13 on JDK 25. */
    @Test
    @Timeout(120)
    void findsACloseThatLosesBytesAlreadyInTheReadersBuffer() {
        findsFlaw(Flaw.CLOSE_FORGETS_DIRECT_BYTES, InboxScenarios.CloseWhileDelivering::new,
                "bytes read plus bytes dropped");
    }

    private static void findsFlaw(Flaw flaw, Function<Inbox.Factory, ModelCheck.Scenario> scenario, String... symptoms) {
        findsFlaw(FLAW_CAP, flaw, scenario, symptoms);
    }

    static void findsFlaw(int cap, Flaw flaw, Function<Inbox.Factory, ModelCheck.Scenario> scenario, String... symptoms) {
        Supplier<ModelCheck.Scenario> flawed = () -> scenario.apply((pool, report) -> new FlawedReceiveSide(flaw, pool, report));
        ModelCheck.findsFlaw(cap, flawed, () -> scenario.apply(Inbox::real), symptoms);
    }
}
