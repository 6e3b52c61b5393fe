package smux.it.interop;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A JDK of a given feature release (17, 25, ...) that the bench runs its Java processes on.
 *
 * <p>Found as {@code -Dsmux.interop.bench.java<N>} (a JDK home or its {@code bin/java}) when that is set,
 * and then only there; else the first of: the {@code java} on {@code PATH}, {@code $JAVA_HOME}, and every
 * JDK under {@code /usr/lib/jvm}, whose {@code java -version} says release N. Asking for a release that is
 * not there fails, naming what was tried: a bench never quietly runs another Java than it says.
 *
 * @param feature the feature release, e.g. 17
 * @param java the {@code java} executable
 * @param version what {@code java -version} printed, e.g. {@code 17.0.15}
 */
record Jdk(int feature, Path java, String version) {
    static final String PROPERTY_PREFIX = "smux.interop.bench.java";
    private static final Pattern VERSION = Pattern.compile("version \"([^\"]+)\"");
    private static final Map<Integer, Jdk> FOUND = new HashMap<>();

    /** @return "Java 17" */
    String label() {
        return "Java " + feature;
    }

    /** Finds release {@code feature} (once per JVM), or fails saying what was tried. */
    static synchronized Jdk find(int feature) {
        Jdk known = FOUND.get(feature);
        if (known != null) {
            return known;
        }
        String property = PROPERTY_PREFIX + feature;
        String configured = System.getProperty(property, "").trim();
        List<Path> candidates = new ArrayList<>();
        if (!configured.isEmpty()) {
            Path p = Path.of(configured);
            candidates.add(Files.isDirectory(p) ? p.resolve("bin").resolve("java") : p);
        } else {
            String path = System.getenv("PATH");
            if (path != null) {
                for (String dir : path.split(File.pathSeparator)) {
                    if (!dir.isBlank() && Files.isExecutable(Path.of(dir, "java"))) {
                        candidates.add(Path.of(dir, "java"));
                        break;
                    }
                }
            }
            String home = System.getenv("JAVA_HOME");
            if (home != null && !home.isBlank()) {
                candidates.add(Path.of(home, "bin", "java"));
            }
            Path jvms = Path.of("/usr/lib/jvm");
            if (Files.isDirectory(jvms)) {
                try (DirectoryStream<Path> dirs = Files.newDirectoryStream(jvms)) {
                    List<Path> sorted = new ArrayList<>();
                    dirs.forEach(sorted::add);
                    sorted.sort(null);
                    for (Path d : sorted) {
                        candidates.add(d.resolve("bin").resolve("java"));
                    }
                } catch (IOException ignored) {
                    // nothing more to try there
                }
            }
        }
        List<String> tried = new ArrayList<>();
        for (Path java : candidates) {
            if (!Files.isExecutable(java)) {
                tried.add(java + " (missing)");
                continue;
            }
            String version = version(java);
            tried.add(java + " (" + version + ")");
            if (featureOf(version) == feature) {
                Jdk jdk = new Jdk(feature, java.toAbsolutePath(), version);
                FOUND.put(feature, jdk);
                return jdk;
            }
        }
        throw new IllegalStateException("Java " + feature + " is asked for (-Dsmux.interop.bench.jdks) but not found; tried "
                + (tried.isEmpty() ? "nothing" : String.join(", ", tried)) + ". Install it, or pass -D" + property
                + "=/path/to/jdk-" + feature + ", or leave " + feature + " out of -Dsmux.interop.bench.jdks.");
    }

    /** The version {@code java -version} reports ({@code 17.0.15}), or what it printed if that is not one. */
    private static String version(Path java) {
        try {
            Process p = new ProcessBuilder(java.toString(), "-version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "no answer to -version";
            }
            Matcher m = VERSION.matcher(out);
            return m.find() ? m.group(1) : out.trim();
        } catch (IOException e) {
            return "cannot run: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking " + java + " for its version", e);
        }
    }

    /**
     * The feature release of a version string: {@code 17.0.15} is 17, {@code 25} is 25, {@code 1.8.0_402} is 8;
     * -1 if it is no version.
     */
    static int featureOf(String version) {
        Matcher m = Pattern.compile("^(\\d+)(?:\\.(\\d+))?").matcher(version);
        if (!m.find()) {
            return -1;
        }
        int first = Integer.parseInt(m.group(1));
        return first == 1 && m.group(2) != null ? Integer.parseInt(m.group(2)) : first;
    }
}
