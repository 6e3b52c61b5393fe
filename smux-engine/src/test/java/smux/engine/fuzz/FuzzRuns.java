package smux.engine.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Proof that a fuzz run fuzzed. Jazzer's JUnit integration only generates inputs when
 * {@code JAZZER_FUZZ} is set; without it a {@code @FuzzTest} silently replays its stored corpus
 * and passes. The build's fuzz execution sets {@code smux.fuzz.minFresh=N}: each target then
 * counts its executions and fails unless it ran at least N more inputs than it has stored.
 */
final class FuzzRuns {
    /** The system property that asks for the check: the least number of fresh inputs. */
    static final String MIN_FRESH = "smux.fuzz.minFresh";

    private static final Map<Class<?>, AtomicLong> EXECUTIONS = new ConcurrentHashMap<>();

    private FuzzRuns() {
    }

    /** Called at the start of every execution of a target. */
    static void count(Class<?> target) {
        EXECUTIONS.computeIfAbsent(target, k -> new AtomicLong()).incrementAndGet();
    }

    /** Called after a target's class: fails if fuzzing was asked for and did not happen. */
    static void assertFuzzedIfAsked(Class<?> target) {
        String min = System.getProperty(MIN_FRESH);
        if (min == null || min.isBlank()) {
            return;
        }
        long executions = EXECUTIONS.getOrDefault(target, new AtomicLong()).get();
        long stored = storedInputs(target);
        System.out.printf("%s: %d executions, %d stored inputs%n", target.getSimpleName(), executions, stored);
        assertTrue(executions >= stored + Long.parseLong(min.trim()), target.getSimpleName() + " ran " + executions
                + " inputs with " + stored + " stored: it did not fuzz (is JAZZER_FUZZ set?)");
    }

    /** @return how many files the target's corpus holds ({@code <Class>Inputs/} beside the class) */
    static long storedInputs(Class<?> target) {
        URL dir = target.getResource(target.getSimpleName() + "Inputs");
        if (dir == null) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(Paths.get(dir.toURI()))) {
            return files.filter(Files::isRegularFile).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
