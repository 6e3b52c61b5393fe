package smux.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * No code of this repository hands work to the common pool: a test whose blocking parties share
 * its one worker (2 CPUs, JDK 25) stalls where it passed on JDK 17, which gave each a thread (see
 * {@link OwnThreads}). Reads every Java source of every module, its comments and strings left out.
 */
class NoCommonPoolTest {
    /** The calls that run on the common pool unless given an executor as their last argument. */
    private static final Pattern ASYNC = Pattern.compile("\\b(supplyAsync|runAsync)\\s*\\(");
    /** The calls that always do. */
    private static final Pattern ALWAYS = Pattern.compile("\\b(commonPool|parallelStream)\\s*\\(|\\.parallel\\s*\\(\\s*\\)");

    @Test
    @Timeout(60)
    void noSourceRunsWorkOnTheCommonPool() throws IOException {
        Path root = Path.of("").toAbsolutePath().getParent();
        assertTrue(Files.isRegularFile(root.resolve("pom.xml")) && Files.isDirectory(root.resolve("smux-it")),
                "run from the smux-it module of the repository (the build does): " + root);
        List<String> found = new ArrayList<>();
        int files;
        try (Stream<Path> all = Files.walk(root)) {
            List<Path> sources = all.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> root.relativize(p).toString().contains("/src/"))
                    .toList();
            files = sources.size();
            for (Path p : sources) {
                String code = codeOnly(read(p));
                offences(code, root.relativize(p).toString(), found);
            }
        }
        assertTrue(files > 100, "read only " + files + " sources under " + root);
        assertEquals(List.of(), found, "work on the common pool: give each blocking party its own thread (OwnThreads)");
    }

    @Test
    void theCheckFindsEachForm() {
        List<String> found = new ArrayList<>();
        offences(codeOnly("""
                CompletableFuture.supplyAsync(() -> read(in, f(1, 2)));
                CompletableFuture.runAsync(() -> { go(); });
                ForkJoinPool.commonPool().submit(task);
                list.parallelStream().forEach(x -> {});
                IntStream.range(0, 9).parallel().sum();
                CompletableFuture.supplyAsync(() -> read(in, f(1, 2)), pool); // fine: has an executor
                String s = "supplyAsync(x)"; /* runAsync(y) */
                """), "Sample.java", found);
        assertEquals(5, found.size(), found::toString);
    }

    private static void offences(String code, String where, List<String> found) {
        Matcher m = ASYNC.matcher(code);
        while (m.find()) {
            if (!hasTwoArguments(code, m.end())) {
                found.add(where + ":" + line(code, m.start()) + " " + m.group(1) + " without an executor");
            }
        }
        m = ALWAYS.matcher(code);
        while (m.find()) {
            found.add(where + ":" + line(code, m.start()) + " " + m.group().trim());
        }
    }

    /** @return whether the argument list opened just before {@code from} has a comma at its own depth */
    private static boolean hasTwoArguments(String code, int from) {
        int depth = 0;
        for (int i = from; i < code.length(); i++) {
            char c = code.charAt(i);
            if (c == '(' || c == '{' || c == '[') {
                depth++;
            } else if (c == ')' || c == '}' || c == ']') {
                if (depth-- == 0) {
                    return false;
                }
            } else if (c == ',' && depth == 0) {
                return true;
            }
        }
        return false;
    }

    private static int line(String code, int at) {
        return (int) code.substring(0, at).chars().filter(c -> c == '\n').count() + 1;
    }

    /** The source with comments and string and character literals blanked (line breaks kept). */
    static String codeOnly(String source) {
        StringBuilder out = new StringBuilder(source.length());
        int i = 0;
        while (i < source.length()) {
            if (source.startsWith("//", i)) {
                int end = source.indexOf('\n', i);
                i = end < 0 ? source.length() : end;
            } else if (source.startsWith("/*", i)) {
                int end = source.indexOf("*/", i + 2);
                end = end < 0 ? source.length() : end + 2;
                source.substring(i, end).chars().filter(c -> c == '\n').forEach(c -> out.append('\n'));
                i = end;
            } else if (source.startsWith("\"\"\"", i)) {
                int end = source.indexOf("\"\"\"", i + 3);
                end = end < 0 ? source.length() : end + 3;
                source.substring(i, end).chars().filter(c -> c == '\n').forEach(c -> out.append('\n'));
                out.append("\"\"");
                i = end;
            } else if (source.charAt(i) == '"' || source.charAt(i) == '\'') {
                char quote = source.charAt(i);
                int j = i + 1;
                while (j < source.length() && source.charAt(j) != quote && source.charAt(j) != '\n') {
                    j += source.charAt(j) == '\\' ? 2 : 1;
                }
                out.append(quote).append(quote);
                i = Math.min(j + 1, source.length());
            } else {
                out.append(source.charAt(i++));
            }
        }
        return out.toString();
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
