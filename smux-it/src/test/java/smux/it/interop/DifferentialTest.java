package smux.it.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import smux.it.interop.GoPeer.Release;

/**
 * Differential tests against Go xtaci/smux, a few seeds per release and protocol version: each seed's
 * {@link DiffPlan} (opens from both sides, writes of random sizes with pauses, half-closes, closes, early
 * closes, writes after the end that must be refused, frame sizes 1..65535 per side, windows 8 KiB..1 MiB)
 * runs Go to Go, Go to Java, Java to Go and Java to Java, and every stream must deliver exactly what the plan
 * says, identically in all four runs ({@link Differential}). {@link DifferentialProperty} runs many seeds.
 *
 * <p>A failure prints the plan, every run's view of every stream, and the property to replay it with.
 */
class DifferentialTest {
    /** Seeds run in the regular build for every release and version (each seed: four runs). */
    static final long[] SEEDS = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

    static List<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (Release r : Release.values()) {
            for (int version = 1; version <= 2; version++) {
                for (long seed : SEEDS) {
                    cases.add(Arguments.of(r, version, seed));
                }
            }
        }
        return cases;
    }

    static Path planDirectory() {
        return GoPeer.workDirectory().getParent().resolve("differential");
    }

    @ParameterizedTest(name = "Go {0}, smux v{1}, seed {2}")
    @MethodSource("cases")
    @Timeout(120)
    void everyStreamDeliversTheSameWithGoAndJava(Release release, int version, long seed) throws Exception {
        Differential.Outcome o = Differential.check(DiffPlan.generate(seed, release, version), planDirectory());
        assertTrue(o.ok(), o::report);
    }

    /** The Java plan content is the Go peer's: the same golden digest as interop/plan_test.go. */
    @Test
    void javaAndGoGenerateTheSameContent() {
        assertEquals("2d5d14dc5cc88d8f91dbf0fd377485afb89cd851d3b7fa484a61ee38d50a427a",
                Content.sha256Hex(Content.mixed(12345), 1000));
    }

    /** The same seed gives the same plan, and the plans keep to what each release handles. */
    @Test
    void plansAreReproducibleAndRespectTheirLimits() {
        for (long seed = 0; seed < 500; seed++) {
            for (Release r : Release.values()) {
                for (int v = 1; v <= 2; v++) {
                    DiffPlan p = DiffPlan.generate(seed, r, v);
                    assertEquals(p, DiffPlan.generate(seed, r, v));
                    for (DiffPlan.StreamPlan s : p.streams()) {
                        assertTrue(s.client().end() != DiffPlan.End.EOF_CLOSE || s.server().end() != DiffPlan.End.EOF_CLOSE, p::toString);
                        for (DiffPlan.Role role : DiffPlan.Role.values()) {
                            DiffPlan.SidePlan mine = s.side(role);
                            DiffPlan.SidePlan peer = s.side(role.other());
                            assertTrue(mine.end() != DiffPlan.End.HALF || r.halfClose, p::toString);
                            assertTrue(mine.end() != DiffPlan.End.EARLY || peer.total() <= DiffPlan.earlyCap(p.window()), p::toString);
                            assertTrue(!mine.afterPeerFin() || peer.end() == DiffPlan.End.HALF && !peer.afterPeerFin(), p::toString);
                            assertTrue(!mine.afterPeerFin() || !s.waitFirst() || s.opener() != role, p::toString);
                        }
                        if (r == Release.V1_5_16) {
                            assertTrue(s.waitFirst() && s.side(s.opener()).total() > 0, p::toString);
                        }
                    }
                }
            }
        }
    }
}
