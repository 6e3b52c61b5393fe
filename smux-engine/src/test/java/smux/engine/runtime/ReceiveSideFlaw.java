package smux.engine.runtime;

import static smux.engine.runtime.Flaw.replace;

import java.util.List;

/**
 * The deliberate flaws of {@link ReceiveSide} that the receive-side scenarios must catch. Each is a
 * patch of ReceiveSide's own source (see {@link Flaw}); {@link FlawedVariants} compiles the patched
 * class at test time. The replacements mark the flawed code {@code FLAW}.
 */
enum ReceiveSideFlaw implements Flaw {
    /** append signals the reader, lets go of the lock, and only then publishes the bytes. */
    SIGNAL_BEFORE_PUBLISH(
            replace("boolean wasEmpty = bufferWasEmpty && direct == 0;",
                    "boolean wasEmpty = bufferWasEmpty && direct == 0;"
                    + " if (wasEmpty) { signalReaders(); } /* FLAW: the reader may look before the bytes are there */"
                    + " lock.unlock(); lock.lock(); buffer().append(src, n); if (true) { return; }")),

    /** append decides whether the stream was empty after copying into the waiting reader's buffer: never, once bytes went in. */
    EMPTY_CHECKED_AFTER_DIRECT_COPY(
            replace("if (wasEmpty || (bufferWasEmpty && buffer.size() > 0)) {",
                    "wasEmpty = buffer.size() == 0 && direct == 0; /* FLAW */"
                    + " if (wasEmpty || (bufferWasEmpty && buffer.size() > 0)) {")),

    /** A read past the requested total reports it, and does not forget the request: every later read reports again. */
    REPORT_NOT_FORGOTTEN(
            replace("if (consumed < reportAt) {",
                    "if (consumed >= reportAt) { return true; /* FLAW: reportAt stays */ } if (consumed < reportAt) {")),

    /** A reader woken by a close throws, forgetting bytes already copied into its buffer. */
    CLOSE_FORGETS_DIRECT_BYTES(
            replace("""
                    }
                    if (mine && direct > 0) {""",
                    "} if (closed) { throw new StreamClosedException(\"cannot read from \" + op + \": it was closed\"); /* FLAW */ }"
                    + " if (mine && direct > 0) {")),

    /**
     * Readers are signalled only when the stream was empty, so bytes buffered behind another
     * reader's direct copy wake nobody (this project's ReceiveSide had it, see its history).
     */
    BUFFERED_BEHIND_DIRECT_COPY_WAKES_NOBODY(
            replace("if (wasEmpty || (bufferWasEmpty && buffer.size() > 0)) {",
                    "if (wasEmpty) { /* FLAW */"));

    private final List<Edit> edits;

    ReceiveSideFlaw(Edit... edits) {
        this.edits = List.of(edits);
    }

    @Override
    public Class<?> real() {
        return ReceiveSide.class;
    }

    @Override
    public List<Edit> edits() {
        return edits;
    }
}
