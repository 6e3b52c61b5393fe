package smux.engine.runtime;

import static smux.engine.runtime.Flaw.replace;

import java.util.List;

/**
 * The deliberate flaws of {@link SendSide} that the outbox scenarios must catch, so that a passing
 * run of them against the real class means something. Each is a patch of SendSide's own source
 * (see {@link Flaw}); {@link FlawedVariants} compiles the patched class at test time. The
 * replacements mark the flawed code {@code FLAW}.
 */
enum SendSideFlaw implements Flaw {
    /** withdraw checks for POSTED, then writes IDLE with a plain set instead of a CAS: a copy begun since the check goes on. */
    WITHDRAW_CHECKS_THEN_SETS(
            replace("if (cas(s, s & ~(PHASE | WITHDRAW))) {",
                    "state = s & ~(PHASE | WITHDRAW); /* FLAW */ {")),

    /** post checks that writing is open, then writes POSTED with a plain set instead of a CAS: a closeWrite since is overwritten. */
    POST_CHECKS_THEN_SETS(
            replace("if (cas(IDLE, POSTED)) {",
                    "state = POSTED; /* FLAW */ {")),

    /** The copier that ends a write does not unpark the writer waiting for it to end. */
    COPY_END_WAKES_NOBODY(
            replace("if ((next & PHASE) == IDLE) {",
                    "if (false) { /* FLAW */")),

    /**
     * Every withdrawer parks, a thread other than the writer after writing itself into one field for
     * the copier to unpark (the design this project's SendSide had: a writer withdrawing at the same
     * time overwrites the field, or the copy ends between the closer's setting WITHDRAW and its
     * writing the field, and the closer sleeps forever).
     */
    CLOSER_PARKS_IN_ONE_SLOT(
            replace("private volatile Thread writer;",
                    "private volatile Thread writer; private volatile Thread withdrawer; /* FLAW: one slot */"),
            replace("if (Thread.currentThread() == writer) {",
                    "withdrawer = Thread.currentThread(); /* FLAW: written late */ if (true) {"),
            replace("LockSupport.unpark(t);",
                    "LockSupport.unpark(t); Thread w = withdrawer; if (w != null && w != t) { LockSupport.unpark(w); }")),

    /**
     * The committed count is read through the buffer field, which release lets go of: a write that
     * timed out while its stream was closed reports nothing committed (the miscount this project's
     * SendSide had, see its history).
     */
    COUNT_FROM_RELEASED_BUFFER(
            replace("return copied;",
                    "ByteBuffer b = src; /* FLAW: null once released */ return b == null ? 0 : copied;"));

    private final List<Edit> edits;

    SendSideFlaw(Edit... edits) {
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
