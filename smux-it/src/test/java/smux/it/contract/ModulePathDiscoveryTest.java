package smux.it.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Proves discovery as a user's module sees it: a fresh JVM runs the consumer module
 * {@code smux.it} (which requires smux.api only) on the module path with the transport jars
 * beside it, and both transports are found and carry an echo.
 */
class ModulePathDiscoveryTest {

    @Test
    @Timeout(60)
    void aModuleThatRequiresOnlyTheApiFindsBothTransports() throws Exception {
        List<String> modulePath = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            String name = Path.of(entry).toString();
            if (name.contains("smux-api") || name.contains("smux-engine") || name.contains("smux-transport-")
                    || name.endsWith(Path.of("smux-it", "target", "classes").toString())) {
                modulePath.add(entry);
            }
        }
        assertEquals(5, modulePath.size(), "expected api, engine, two transports and the consumer: " + modulePath);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--module-path", String.join(File.pathSeparator, modulePath),
                "-m", "smux.it/smux.it.consumer.ConsumerMain").redirectErrorStream(true).start();
        assertTrue(p.waitFor(45, TimeUnit.SECONDS), "the consumer did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        List<String> lines = Arrays.stream(out.split("\\R")).collect(Collectors.toList());
        assertTrue(lines.contains("module smux.it"), out);
        assertTrue(lines.contains("requires smux.api"), "the consumer must require smux.api only: " + out);
        assertTrue(lines.contains("transports socket,nio"), out);
        assertTrue(lines.contains("echo socket ok"), out);
        assertTrue(lines.contains("echo nio ok"), out);
    }
}
