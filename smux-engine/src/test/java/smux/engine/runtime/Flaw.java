package smux.engine.runtime;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A deliberate concurrency flaw of a real runtime class, written as edits of that class's own source:
 * each {@link Edit} replaces one anchor, a line or two of the real file, with the flawed code. The
 * model-checked tests derive the flawed variant from today's {@code src/main/java} at test time
 * ({@link FlawedVariants}), so it cannot drift from the class it is a variant of: when the real
 * class changes where a flaw patches it, the anchor no longer matches exactly once and the patch
 * fails, naming the flaw and saying how to bring it up to date ({@link NoLongerApplies}).
 *
 * <p>Anchors are matched literally, except that any run of whitespace in an anchor stands for any
 * run of whitespace in the source (a re-indented line still matches). Each must occur exactly once
 * in the file; the edits of a flaw apply in order, each to the text the previous ones left.
 *
 * <p>Implemented by an enum per real class ({@link SendSideFlaw}, {@link ReceiveSideFlaw}).
 */
interface Flaw {
    /** @return the flaw's name, as the enum constant spells it */
    String name();

    /** @return the real class the flaw is a variant of (the source file patched is its own) */
    Class<?> real();

    /** @return the edits that make the real source flawed, applied in order */
    List<Edit> edits();

    /** @return the file and constant that define the flaw, for messages: {@code SendSideFlaw.POST_CHECKS_THEN_SETS} */
    default String qualifiedName() {
        return getClass().getSimpleName() + "." + name();
    }

    /**
     * One edit: {@code anchor}, which must occur exactly once in the source, becomes {@code replacement}.
     * Keep anchors to one or two lines, so that edits elsewhere in the class leave them alone.
     */
    record Edit(String anchor, String replacement) {
    }

    /** @return an edit replacing {@code anchor} with {@code replacement} */
    static Edit replace(String anchor, String replacement) {
        return new Edit(anchor, replacement);
    }

    /** @return the real class's source file, {@code <module>/src/main/java/<package>/<Class>.java} */
    default Path source() {
        return mainSources().resolve(real().getName().replace('.', '/') + ".java");
    }

    /** @return this flaw applied to the real class's source as it is on disk now */
    default String patchedSource() {
        Path file = source();
        try {
            return patch(Files.readString(file, StandardCharsets.UTF_8), file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the source of " + real().getSimpleName() + " that flaw "
                    + qualifiedName() + " patches: " + file.toAbsolutePath() + " (tests run with the module's directory"
                    + " as their working directory, or with the system property basedir set to it)", e);
        }
    }

    /**
     * Applies this flaw's edits to {@code source}, the text of {@code file}.
     *
     * @throws NoLongerApplies if an anchor does not occur exactly once
     */
    default String patch(String source, Path file) {
        String text = source;
        for (int i = 0; i < edits().size(); i++) {
            Edit edit = edits().get(i);
            Matcher m = anchorPattern(edit.anchor()).matcher(text);
            int count = 0;
            int start = -1;
            int end = -1;
            while (m.find()) {
                if (count++ == 0) {
                    start = m.start();
                    end = m.end();
                }
            }
            if (count != 1) {
                throw new NoLongerApplies(this, i, count, file);
            }
            text = text.substring(0, start) + edit.replacement() + text.substring(end);
        }
        return text;
    }

    /** The anchor as a pattern: literal text, each run of whitespace matching any run of whitespace. */
    private static Pattern anchorPattern(String anchor) {
        String[] parts = anchor.strip().split("\\s+");
        StringBuilder regex = new StringBuilder();
        for (String part : parts) {
            if (regex.length() > 0) {
                regex.append("\\s+");
            }
            regex.append(Pattern.quote(part));
        }
        return Pattern.compile(regex.toString());
    }

    /** @return smux-engine's directory: Surefire's {@code basedir}, else the working directory (where Maven runs the tests) */
    static Path moduleDirectory() {
        return Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
    }

    private static Path mainSources() {
        return moduleDirectory().resolve(Path.of("src", "main", "java"));
    }

    /**
     * A flaw's anchor did not occur exactly once in the real source: the real class changed where the
     * flaw patches it. The message names the flaw and says how to bring it up to date.
     */
    final class NoLongerApplies extends AssertionError {
        private static final long serialVersionUID = 1L;

        NoLongerApplies(Flaw flaw, int edit, int count, Path file) {
            super(message(flaw, edit, count, file));
        }

        private static String message(Flaw flaw, int edit, int count, Path file) {
            String real = flaw.real().getSimpleName();
            String enumFile = flaw.getClass().getSimpleName() + ".java";
            return "The deliberate flaw " + flaw.qualifiedName() + " no longer applies to " + real + ": the anchor of its"
                    + " edit " + (edit + 1) + " of " + flaw.edits().size() + ",\n\n"
                    + indent(flaw.edits().get(edit).anchor()) + "\n\n"
                    + (count == 0 ? "is no longer in " : "occurs " + count + " times in ") + file
                    + " (it must occur exactly once, whitespace aside).\n"
                    + real + " changed where this flaw patches it, so the model-checked tests can no longer derive"
                    + " the flawed variant they must catch. Update the patch, in " + enumFile + " (smux-engine/src/test/java/"
                    + Flaw.class.getPackageName().replace('.', '/') + "/):\n"
                    + "  1. Read the flaw's description there, and find the code in today's " + real + " where the same"
                    + " mistake can be made.\n"
                    + "  2. Make a line or two of it, unique in the file, the anchor" + (count > 1 ? " (add a neighbouring"
                    + " line to make it unique)" : "") + ", and write the replacement so that it makes that mistake.\n"
                    + "  3. Run the model checks, which must still find the flaw:\n"
                    + "       mvn -B -ntp -pl smux-api,smux-engine test-compile surefire:test@model-check"
                    + " -Dsmux.quick -Dtest='*ModelCheckTest,*ModelCheckLongTest'\n"
                    + "     (or the whole mvn -B -ntp -pl smux-api,smux-engine -am verify), and update the number of"
                    + " schedules written above its test if it changed (the test's output,"
                    + " smux-engine/target/surefire-reports/*ModelCheck*-output.txt, prints it).\n"
                    + "If the mistake can no longer be made in the new " + real + " at all, delete the flaw and its test,"
                    + " and say why in the commit message.";
        }

        private static String indent(String anchor) {
            return "    " + anchor.strip().replace("\n", "\n    ");
        }
    }
}
