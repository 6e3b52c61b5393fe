package smux.engine.runtime;

import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Model-checked schedules of {@link SendSide}: write vs copy vs withdraw vs closeWrite vs close
 * (the scenarios and the promises they check: {@link OutboxScenarios}); then the same scenarios
 * against flawed variants of it, derived from its source at test time ({@link SendSideFlaw}), each
 * of which the checker must find. The flaw that takes the
 * longest to find, the lost wake-up SendSide had, is searched for in {@link LostWakeUpsModelCheckLongTest}.
 */
class SendSideModelCheckTest {
    static {
        // Parks of the outbox block exactly under the checker (see ExactPark); its flawed variants' too (FlawedVariants).
        ExactPark.redirect("SendSide");
    }

    private static final int SCHEDULES = 100;
    /**
     * The most schedules a flaw search may take. A search stops at its first failing schedule, and
     * the checker's own random choices have fixed seeds, so each flaw takes the same number of
     * schedules on every run of one JDK; the figures beside each test were measured on JDK 17 and
     * 25 (they differ where the JDK's own classes differ). The cap is over ten times the largest.
     */
    private static final int FLAW_CAP = 1000;

    @Test
    @Timeout(120)
    void aWithdrawReportsExactlyWhatWasCopied() {
        ModelCheck.explore(SCHEDULES, () -> new OutboxScenarios.WriteWithdrawnWhileCopied(Outbox::real));
    }

    @Test
    @Timeout(120)
    void aCloseDuringAWriteWakesTheWriterAndTheFinFollowsTheLastByte() {
        ModelCheck.explore(SCHEDULES, () -> new OutboxScenarios.WriteWaitsWhileStreamCloses(Outbox::real));
    }

    @Test
    @Timeout(120)
    void aTimeoutAndACloseWithdrawingTogetherBothEndWithTheExactCount() {
        ModelCheck.explore(SCHEDULES, () -> new OutboxScenarios.TimeoutAndCloseWithdrawTogether(Outbox::real));
    }

    @Test
    @Timeout(120)
    void aCloseAndATimeoutWaitingForOneCopyAreBothWoken() {
        ModelCheck.explore(SCHEDULES, () -> new OutboxScenarios.TwoWithdrawersWaitForOneCopy(Outbox::real));
    }

    @Test
    @Timeout(120)
    void aPostRacingCloseWriteEitherFailsOrIsCopiedBeforeTheFin() {
        ModelCheck.explore(SCHEDULES, () -> new OutboxScenarios.PostRacesCloseWrite(Outbox::real));
    }

    @Test
    @Timeout(120)
    void aSecondWriteIsCopiedFromItsOwnBuffer() {
        ModelCheck.explore(SCHEDULES, () -> new OutboxScenarios.SecondWriteAfterAWithdrawnOne(Outbox::real));
    }

    // ------------------------------------------------------------------ the checker catches each flaw

    /** Found in 69 schedules on JDK 17, 69 on JDK 25 (before ExactPark.Parker held its body, none in 20,000 on 25). */
    @Test
    @Timeout(120)
    void findsAWithdrawThatChecksThenSets() {
        findsFlaw(SendSideFlaw.WITHDRAW_CHECKS_THEN_SETS, OutboxScenarios.WithdrawRacesOneCopy::new,
                "the withdraw reported what the buffer's position does not say", "the staged bytes are not the first");
    }

    /** Found in 75 schedules on JDK 17, 47 on JDK 25. */
    @Test
    @Timeout(120)
    void findsAPostThatChecksThenSets() {
        findsFlaw(SendSideFlaw.POST_CHECKS_THEN_SETS, OutboxScenarios.PostRacesCloseWrite::new,
                "writing is not closed after closeWrite");
    }

    /** Found in 2 schedules on JDK 17, 2 on JDK 25. */
    @Test
    @Timeout(120)
    void findsACopyThatEndsAWriteWithoutWakingTheWriter() {
        findsFlaw(SendSideFlaw.COPY_END_WAKES_NOBODY, OutboxScenarios.PostRacesCloseWrite::new,
                "All unfinished threads are in deadlock");
    }

    /** Found in 13 schedules on JDK 17, 13 on JDK 25. */
    @Test
    @Timeout(120)
    void findsACountReadOffAReleasedBuffer() {
        findsFlaw(SendSideFlaw.COUNT_FROM_RELEASED_BUFFER, OutboxScenarios.TwoWithdrawersWaitForOneCopy::new,
                "the timed-out write reported a wrong committed count");
    }

    private static void findsFlaw(SendSideFlaw flaw, Function<Supplier<Outbox>, ModelCheck.Scenario> scenario, String... symptoms) {
        findsFlaw(FLAW_CAP, flaw, scenario, symptoms);
    }

    static void findsFlaw(int cap, SendSideFlaw flaw, Function<Supplier<Outbox>, ModelCheck.Scenario> scenario, String... symptoms) {
        Supplier<Outbox> variant = FlawedVariants.outboxes(flaw);
        ModelCheck.findsFlaw(cap, () -> scenario.apply(variant), () -> scenario.apply(Outbox::real), symptoms);
    }
}
