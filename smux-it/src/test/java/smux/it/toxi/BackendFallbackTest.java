package smux.it.toxi;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code auto} never hangs on an image it cannot have: with a Docker engine answering and an image tag that does
 * not exist, it settles on the local toxiproxy-server within 30 s (Testcontainers' default retries made this about
 * 7 minutes, Ryuk's pulls included) and says why in one line.
 *
 * <p>Where no engine answers (a developer's machine without Docker), the same test checks the other reason for
 * the same fallback; CI sets {@value BackendChoice#REQUIRE_DOCKER_ENV}, which makes a missing engine a failure
 * here, so the image case is the one CI proves.
 */
class BackendFallbackTest {

    private static final String MISSING_IMAGE = "ghcr.io/shopify/toxiproxy:0.0.0-smux-it-no-such-tag";

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES) // the local binary may need its first Go build
    void autoFallsBackToTheLocalBinaryWithinSecondsWhenTheImageCannotBeHad() throws Exception {
        boolean docker = DockerEngine.find(whyNot -> ToxiproxyServerBinary.log("(fallback test) no Docker: " + whyNot))
                .isPresent();
        if (BackendChoice.dockerRequired()) {
            assertTrue(docker, BackendChoice.REQUIRE_DOCKER_ENV + "=true, but no Docker engine answers");
        }
        List<String> lines = new CopyOnWriteArrayList<>();
        long[] decidedAt = new long[1];
        long started = System.nanoTime();
        try (ToxiproxyBackend backend = BackendChoice.start("auto", MISSING_IMAGE, false, line -> {
            decidedAt[0] = System.nanoTime();
            lines.add(line);
            ToxiproxyServerBinary.log("(fallback test) " + line);
        })) {
            double decidedSeconds = (decidedAt[0] - started) / 1e9;
            assertInstanceOf(LocalBinaryBackend.class, backend, "auto must fall back to the local binary");
            assertTrue(backend.client().version().contains(ToxiproxyBackend.TOXIPROXY_VERSION), "the local server answers");
            assertEquals(1, lines.size(), () -> "one line saying which backend and why, got " + lines);
            String line = lines.get(0);
            assertTrue(line.startsWith("backend: local toxiproxy-server"), line);
            if (docker) {
                assertTrue(line.contains("image " + MISSING_IMAGE + " cannot be had: "), line);
            } else {
                assertTrue(line.contains("no Docker engine answers"), line);
            }
            assertTrue(decidedSeconds < 30, String.format("decided after %.1f s: %s", decidedSeconds, line));
            ToxiproxyServerBinary.log(String.format(java.util.Locale.ROOT,
                    "(fallback test) decided in %.1f s, local server ready in %.1f s", decidedSeconds,
                    (System.nanoTime() - started) / 1e9));
        }
    }
}
