package smux.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The demo's progress: a live bar on a terminal; without one (a pipe, a log, CI), plain lines at
 * each quarter and at the end, which a log can hold.
 */
abstract class Progress implements AutoCloseable {
    /** @param max in MiB */
    static Progress start(String name, long max) {
        return System.console() != null ? new Bar(name, max) : new Lines(name, max);
    }

    abstract void stepTo(long mib);

    abstract void note(String message);

    @Override
    public abstract void close();

    private static final class Bar extends Progress {
        private final ProgressBar bar;

        Bar(String name, long max) {
            bar = new ProgressBarBuilder().setTaskName(String.format("%-16s", name)).setInitialMax(max)
                    .setUnit(" MiB", 1).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(100).continuousUpdate().build();
        }

        @Override
        void stepTo(long mib) {
            bar.stepTo(mib);
        }

        @Override
        void note(String message) {
            bar.setExtraMessage(message);
        }

        @Override
        public void close() {
            bar.close();
        }
    }

    private static final class Lines extends Progress {
        private final String name;
        private final long max;
        private long shown = -1;
        private long at;
        private String note = "";

        Lines(String name, long max) {
            this.name = name;
            this.max = Math.max(1, max);
        }

        @Override
        synchronized void stepTo(long mib) {
            if (mib > at) {
                note = "";
            }
            at = mib;
            long quarter = mib * 4 / max;
            if (quarter > shown && quarter < 4) {
                shown = quarter;
                System.out.printf("  %-16s %,d of %,d MiB%n", name, mib, max);
            }
        }

        @Override
        synchronized void note(String message) {
            note = message;
        }

        @Override
        public synchronized void close() {
            System.out.printf("  %-16s %,d of %,d MiB%s%n", name, at, max, note.isEmpty() ? "" : " (" + note + ")");
        }
    }
}
