package smux.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.function.Supplier;
import org.jetbrains.lincheck.Lincheck;

/**
 * Runs a concurrent scenario under Lincheck's model checker, which controls the scheduler: it runs
 * the scenario's threads one at a time and switches between them at every shared read, write, CAS,
 * lock, park and unpark, exploring a different schedule in each invocation. A failed assertion, an
 * exception, or a schedule in which every live thread waits forever (a lost wake-up) ends the search
 * with the schedule printed step by step.
 *
 * <p>Limits worth knowing: the checker assumes sequential consistency (it finds interleaving races,
 * not reorderings the Java memory model allows); it explores a {@code LockSupport.park} in user code
 * as a yield, which {@link ExactPark} works around for the outbox; a timed park may end at any time.
 * The search is bounded, not exhaustive: a passing run says no failing schedule was among those
 * explored. It is deterministic: its random choices have fixed seeds, so the same code is explored
 * in the same order each run; another JDK is other code (the JDK classes a scenario calls), and
 * explores in another order. A "shared" read or write is one of an object the checker saw become
 * reachable from a started thread; others it takes for thread-local and never interleaves, which
 * {@link #requireTheCheckerSeesPlainFieldRaces} makes sure of before any search (it once hid every
 * scenario object on JDK 25, see ExactPark.Parker).
 *
 * <p>Schedules per scenario: the test's own figure, which keeps the regular build within about
 * 40 s; the system property {@code smux.modelcheck.invocations} replaces it for a longer search:
 * {@code mvn -B -ntp -pl smux-api,smux-engine verify -Dsmux.modelcheck.invocations=20000}, or the
 * profile {@code -Pmodel-check-long} (see smux-engine's pom).
 */
final class ModelCheck {
    private ModelCheck() {
    }

    /** @return the invocations for a scenario whose regular figure is {@code regular} */
    static int invocations(int regular) {
        int asked = Integer.getInteger("smux.modelcheck.invocations", 0);
        return asked > 0 ? asked : regular;
    }

    /** Explores {@code invocations(regular)} schedules of fresh scenarios; throws on the first failing one. */
    static void explore(int regular, Supplier<? extends Scenario> scenarios) {
        requireTheCheckerSeesPlainFieldRaces();
        long start = System.nanoTime();
        int n = invocations(regular);
        Lincheck.runConcurrentTest(n, new Invocations(scenarios, true));
        log(n + " schedules explored", start);
    }

    /**
     * Explores schedules of a scenario run against a deliberately flawed variant and returns the
     * checker's report, which must mention one of {@code symptoms}: the search must find the flaw,
     * and for the reason the flaw exists (it stops at the first failing schedule, so the figure is
     * a cap, not a cost).
     *
     * @param sound the same scenario against the real class, run once unchecked to load classes
     *     (the flawed one might hang outside the checker)
     */
    static String findsFlaw(int cap, Supplier<? extends Scenario> flawed, Supplier<? extends Scenario> sound,
            String... symptoms) {
        requireTheCheckerSeesPlainFieldRaces();
        long start = System.nanoTime();
        sound.get().run();
        Invocations invocations = new Invocations(flawed, false);
        AssertionError found = assertThrows(AssertionError.class,
                () -> Lincheck.runConcurrentTest(invocations(cap), invocations),
                "the model checker found no failing schedule for a variant that has the flaw");
        String report = String.valueOf(found.getMessage());
        int tried = invocations.runs;
        String symptom = Arrays.stream(symptoms).filter(report::contains).findFirst().orElse(null);
        assertTrue(symptom != null, () -> "the checker failed, but with none of " + Arrays.toString(symptoms)
                + ":\n" + report);
        log("flaw found, " + tried + " schedules run counting the replay that printed it (" + symptom + ")", start);
        return report;
    }

    /** The most schedules the canary may take; it needs 7 on JDK 17 and on JDK 25. */
    private static final int CANARY_CAP = 100;
    private static boolean canarySang;
    /** Why the canary failed, if it did: every later test of this JVM fails with it at once. */
    private static AssertionError canaryFailure;

    /**
     * Fails loudly unless the checker, on this JDK, interleaves the plain field reads and writes of a
     * scenario's objects: it must find the lost update of two threads that each add one to a plain
     * field. Lincheck interleaves only the accesses to objects it saw become shared; until
     * ExactPark.Parker held its body in a field of its own, JDK 19 and later hid every scenario
     * object from it, and the checked classes' plain fields were never interleaved: the sound
     * scenarios passed without checking their races, and a flaw reached only through one (a
     * withdraw that checks then sets) was never found. If this fails, no model-checked test of
     * this JVM means anything: find out what the checker cannot see here before trusting them.
     */
    static synchronized void requireTheCheckerSeesPlainFieldRaces() {
        if (canarySang) {
            return;
        }
        if (canaryFailure != null) {
            throw canaryFailure;
        }
        Invocations invocations = new Invocations(LostUpdate::new, false);
        try {
            Lincheck.runConcurrentTest(CANARY_CAP, invocations);
        } catch (AssertionError found) {
            if (String.valueOf(found.getMessage()).contains(LostUpdate.SYMPTOM)) {
                canarySang = true;
                System.out.printf("[model-check] the checker sees plain field races on Java %s: a lost update found in %d schedules%n",
                        Runtime.version(), invocations.runs);
                return;
            }
            throw canaryFailure = found;
        }
        throw canaryFailure = new AssertionError("the model checker cannot be trusted on Java " + Runtime.version()
                + ": in " + CANARY_CAP + " schedules it found no lost update of two threads that each add one to a"
                + " plain field, so it does not interleave the plain reads and writes of the scenarios' objects and"
                + " every model-checked test here would pass without checking them. Run them on Java 17 or 25 (the"
                + " JDKs they are tested on), or find what the checker cannot see on this one (see ExactPark.Parker).");
    }

    /** Two threads add one to a plain field each: the canary's race, which any interleaving checker finds. */
    private static final class LostUpdate extends Scenario {
        static final String SYMPTOM = "an update of a plain field was lost";
        private int count;

        @Override
        int threads() {
            return 2;
        }

        @Override
        void thread(int i) {
            count = count + 1;
        }

        @Override
        void check() {
            if (count != 2) {
                throw new AssertionError(SYMPTOM + ": " + count);
            }
        }
    }

    /**
     * What the checker runs: a fresh scenario each time. Built around one sample scenario, which
     * does two things. Run once unchecked first (the sound ones; a flawed one might hang), it loads
     * every class the scenario uses before the checker explores it (class loading inside a checked
     * schedule is explored too, slowly, and its internal loops can look like threads that never
     * finish). And its objects stay reachable from here: Lincheck rewrites classes lazily, the ones
     * it finds by following references from the object it is given and the ones it sees the
     * checked code create, and it cannot look inside the lambda that creates the scenarios; without
     * this sample, the outbox's class might never be rewritten and its reads, writes and parks
     * would run unchecked.
     */
    private static final class Invocations implements Runnable {
        private final Supplier<? extends Scenario> scenarios;
        @SuppressWarnings("unused") // read by Lincheck, see above
        private final Scenario sample;
        /** Schedules begun (the checker replays a failing one once more to print it). */
        private int runs;

        Invocations(Supplier<? extends Scenario> scenarios, boolean warmUp) {
            this.scenarios = scenarios;
            this.sample = scenarios.get();
            if (warmUp) {
                sample.run();
            }
        }

        @Override
        public void run() {
            runs++;
            scenarios.get().run();
        }
    }

    private static void log(String what, long start) {
        StackWalker.StackFrame caller = StackWalker.getInstance()
                .walk(s -> s.filter(f -> !f.getClassName().equals(ModelCheck.class.getName())
                        && !f.getMethodName().equals("findsFlaw")).findFirst())
                .orElseThrow();
        System.out.printf("[model-check] %s.%s: %s in %d ms%n", caller.getClassName().replaceAll(".*\\.", ""),
                caller.getMethodName(), what, (System.nanoTime() - start) / 1_000_000);
    }

    /**
     * One invocation's worth of a concurrent scenario: its state in fields, {@link #threads()}
     * threads that each run {@link #thread(int)}, then {@link #check()} on the main thread. An
     * assertion that fails in a thread fails the schedule.
     *
     * <p>Written as a class, not lambdas, on purpose: the checker tells shared objects from local
     * ones by following references from each started thread, and it cannot follow what a lambda
     * captured; an outbox reached only through a lambda would look local to it, and it would not
     * interleave anything inside.
     */
    abstract static class Scenario {
        private Throwable failure;

        /** @return how many threads run the scenario */
        abstract int threads();

        /** The body of thread {@code i}. */
        abstract void thread(int i);

        /** Checks the outcome, once every thread is done. */
        abstract void check();

        final void run() {
            Thread[] threads = new Thread[threads()];
            for (int i = 0; i < threads.length; i++) {
                threads[i] = new ExactPark.Parker(new Body(this, i));
            }
            for (Thread t : threads) {
                t.start();
            }
            for (Thread t : threads) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted while joining the scenario's threads", e);
                }
            }
            if (failure instanceof RuntimeException r) {
                throw r;
            }
            if (failure instanceof Error e) {
                throw e;
            }
            check();
        }

        private synchronized void failed(Throwable t) {
            if (failure == null) {
                failure = t;
            }
        }
    }

    private static final class Body implements Runnable {
        private final Scenario scenario;
        private final int index;

        Body(Scenario scenario, int index) {
            this.scenario = scenario;
            this.index = index;
        }

        @Override
        public void run() {
            try {
                scenario.thread(index);
            } catch (RuntimeException | Error e) {
                scenario.failed(e);
            }
        }
    }
}
