package smux.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static smux.engine.runtime.Flaw.replace;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The flaws the model-checked tests must find are patches of the real classes' sources (see
 * {@link Flaw}), so they cannot drift from the classes they are variants of: a patch whose anchor
 * is gone, or is no longer unique, fails loudly and says how to fix it. Text only (the model-checked
 * tests compile and check the variants), so it runs in the regular unit tests and tells whoever
 * edits SendSide or ReceiveSide at once.
 */
class FlawTest {
    /** A flaw of SendSide whose anchor is not in it. */
    private enum Drifted implements Flaw {
        GONE(replace("if (state.weakCompareAndSetVolatile(IDLE, POSTED)) {", "if (true) {"));

        private final List<Edit> edits;

        Drifted(Edit... edits) {
            this.edits = List.of(edits);
        }

        @Override
        public Class<?> real() {
            return SendSide.class;
        }

        @Override
        public List<Edit> edits() {
            return edits;
        }
    }

    /** Every flaw at once, so that an edit which breaks several says so in one run. */
    @Test
    void everyFlawAppliesToTodaysSourceAndMarksItsCode() {
        List<String> broken = new ArrayList<>();
        for (Flaw flaw : allFlaws()) {
            try {
                String patched = flaw.patchedSource();
                if (!patched.contains("FLAW") || patched.equals(read(flaw))) {
                    broken.add(flaw.qualifiedName() + " changes nothing, or does not mark its flawed code FLAW");
                }
            } catch (Flaw.NoLongerApplies e) {
                broken.add(e.getMessage());
            }
        }
        assertTrue(broken.isEmpty(), () -> broken.size() + " of the deliberate flaws no longer apply:\n\n"
                + String.join("\n\n", broken));
    }

    /** Every flaw must be found: each has a model-checked test that searches for it. */
    @Test
    void everyFlawHasAModelCheckedTestThatMustFindIt() throws IOException {
        Path tests = Flaw.moduleDirectory().resolve(Path.of("src", "test", "java"))
                .resolve(FlawTest.class.getPackageName().replace('.', '/'));
        StringBuilder modelChecks = new StringBuilder();
        try (Stream<Path> files = Files.list(tests)) {
            for (Path f : files.filter(f -> f.getFileName().toString().matches(".*ModelCheck.*Test\\.java"))
                    .collect(Collectors.toList())) {
                modelChecks.append(Files.readString(f, StandardCharsets.UTF_8));
            }
        }
        for (Flaw flaw : allFlaws()) {
            assertTrue(modelChecks.toString().contains(flaw.qualifiedName() + ","), () -> flaw.qualifiedName()
                    + " is searched for by no *ModelCheck*Test in " + tests + ": give it a test that must find it"
                    + " (ModelCheck.findsFlaw), or delete the flaw");
        }
    }

    @Test
    void aFlawWhoseAnchorIsGoneFailsNamingTheFlawAndHowToUpdateIt() {
        Flaw.NoLongerApplies e = assertThrows(Flaw.NoLongerApplies.class, Drifted.GONE::patchedSource);
        String message = e.getMessage();
        assertTrue(message.startsWith("The deliberate flaw Drifted.GONE no longer applies to SendSide"), message);
        assertTrue(message.contains("if (state.weakCompareAndSetVolatile(IDLE, POSTED)) {"), message);
        assertTrue(message.contains("is no longer in "), message);
        assertTrue(message.contains("src/main/java/smux/engine/runtime/SendSide.java"), message);
        assertTrue(message.contains("Update the patch, in Drifted.java"), message);
        assertTrue(message.contains("surefire:test@model-check"), message);
    }

    /** What a change to SendSide does to a real flaw: the line it patches was rewritten. */
    @Test
    void aRealFlawFailsOnceTheLineItPatchesChanges() {
        String today = read(SendSideFlaw.POST_CHECKS_THEN_SETS);
        String changed = today.replace("if (cas(IDLE, POSTED)) {",
                "if (STATE.compareAndExchange(this, IDLE, POSTED) == IDLE) {");
        assertTrue(today.contains("if (cas(IDLE, POSTED)) {"),
                "the line this test rewrites is no longer in SendSide: rewrite the one POST_CHECKS_THEN_SETS anchors on now");
        Flaw.NoLongerApplies e = assertThrows(Flaw.NoLongerApplies.class,
                () -> SendSideFlaw.POST_CHECKS_THEN_SETS.patch(changed, SendSideFlaw.POST_CHECKS_THEN_SETS.source()));
        assertTrue(e.getMessage().startsWith("The deliberate flaw SendSideFlaw.POST_CHECKS_THEN_SETS no longer applies to"
                + " SendSide: the anchor of its edit 1 of 1,"), e.getMessage());
        assertTrue(e.getMessage().contains("Update the patch, in SendSideFlaw.java"), e.getMessage());
    }

    @Test
    void anAnchorThatOccursTwiceFailsAsAmbiguous() {
        String today = read(SendSideFlaw.COPY_END_WAKES_NOBODY);
        assertTrue(today.contains("if ((next & PHASE) == IDLE) {"),
                "the line this test doubles is no longer in SendSide: double the one COPY_END_WAKES_NOBODY anchors on now");
        String twice = today.replace("if ((next & PHASE) == IDLE) {",
                "if ((next & PHASE) == IDLE) {\n        }\n        if ((next & PHASE) == IDLE) {");
        Flaw.NoLongerApplies e = assertThrows(Flaw.NoLongerApplies.class,
                () -> SendSideFlaw.COPY_END_WAKES_NOBODY.patch(twice, SendSideFlaw.COPY_END_WAKES_NOBODY.source()));
        assertTrue(e.getMessage().contains("occurs 2 times in "), e.getMessage());
        assertTrue(e.getMessage().contains("add a neighbouring line to make it unique"), e.getMessage());
    }

    @Test
    void anAnchorMatchesAcrossChangedIndentationButNothingElse() {
        String today = read(ReceiveSideFlaw.CLOSE_FORGETS_DIRECT_BYTES);
        String reindented = today.replace("            if (mine && direct > 0) {\n                return takeDirect();\n            }\n        }",
                "                if (mine && direct > 0) {\n                return takeDirect();\n            }\n        }");
        assertFalse(today.equals(reindented), "the lines this test re-indents are no longer in ReceiveSide: pick those"
                + " CLOSE_FORGETS_DIRECT_BYTES anchors on now");
        String patched = ReceiveSideFlaw.CLOSE_FORGETS_DIRECT_BYTES.patch(reindented, ReceiveSideFlaw.CLOSE_FORGETS_DIRECT_BYTES.source());
        assertEquals(1, patched.split("/\\* FLAW \\*/", -1).length - 1, patched);
        String respelled = today.replace("if (mine && direct > 0) {\n                return takeDirect();\n            }\n        }",
                "if (mine && 0 < direct) {\n                return takeDirect();\n            }\n        }");
        assertThrows(Flaw.NoLongerApplies.class,
                () -> ReceiveSideFlaw.CLOSE_FORGETS_DIRECT_BYTES.patch(respelled, ReceiveSideFlaw.CLOSE_FORGETS_DIRECT_BYTES.source()));
    }

    private static List<Flaw> allFlaws() {
        List<Flaw> flaws = new ArrayList<>(List.of(SendSideFlaw.values()));
        flaws.addAll(List.of(ReceiveSideFlaw.values()));
        return flaws;
    }

    private static String read(Flaw flaw) {
        try {
            return Files.readString(flaw.source(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError("cannot read " + flaw.source(), e);
        }
    }
}
