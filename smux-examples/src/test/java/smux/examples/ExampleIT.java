package smux.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * README.md's command that runs the example on the module path works as written: the test takes
 * the line from README.md and runs it from the project's root, with this JVM's {@code java}.
 */
class ExampleIT {

    @Test
    @Timeout(120)
    void theReadmeCommandRunsTheExampleOnTheModulePath() throws Exception {
        Path root = Path.of(System.getProperty("smux.root", "..")).toRealPath();
        List<String> readme = Files.readAllLines(root.resolve("README.md"));
        String line = readme.stream().map(String::strip).filter(l -> l.startsWith("$ java --module-path")).findFirst()
                .orElseThrow(() -> new AssertionError("README.md has no '$ java --module-path ...' line"));
        String command = line.substring(2);
        String version = System.getProperty("smux.examples.version");
        assertTrue(command.contains("smux-examples-" + version + ".jar"), "README names the jar of this version: " + command);

        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> args = new java.util.ArrayList<>(List.of(command.split(" +")));
        assertEquals("java", args.get(0));
        args.set(0, java);
        Process p = new ProcessBuilder(args).directory(root.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the example finished");
        assertEquals(0, p.exitValue(), out);
        for (int id : new int[] {3, 5, 7}) {
            assertTrue(out.contains("stream " + id + " echoed: hello from stream " + id), out);
        }
        assertTrue(out.contains("transport: socket"), "the transport was found on the module path: " + out);
    }

    @Test
    @Timeout(120)
    void theMetricsExamplePrintsMetersThatMovedAndStopped() throws Exception {
        Path root = Path.of(System.getProperty("smux.root", "..")).toRealPath();
        String version = System.getProperty("smux.examples.version");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--module-path", "smux-examples/target/smux-examples-" + version
                + ".jar:smux-examples/target/lib", "-m", "smux.examples/smux.examples.MetricsExample")
                .directory(root.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the example finished");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("version 1 client: 1048576 bytes echoed") && out.contains("version 2 client: 1048576 bytes echoed"), out);
        String open = out.substring(out.indexOf("-- while"), out.indexOf("-- after"));
        String closed = out.substring(out.indexOf("-- after"));
        assertTrue(open.matches("(?s).*smux\\.sessions +\\{role=server\\} +2 sessions.*"), open);
        assertTrue(open.matches("(?s).*smux\\.bytes\\.received +\\{role=server\\} +2097152 bytes.*"), open);
        assertTrue(closed.matches("(?s).*smux\\.sessions +\\{role=server\\} +0 sessions.*"), closed);
        assertTrue(closed.matches("(?s).*smux\\.bytes\\.received +\\{role=server\\} +2097152 bytes.*"), closed);
    }
}
