package smux.bench.core;

import java.util.Locale;

/** Sizes and numbers as the bench writes them for people. */
final class Units {
    private Units() {
    }

    /** @return {@code 64 KiB}, {@code 4 MiB}, or bytes when not a whole number of either */
    static String size(long bytes) {
        if (bytes >= (1 << 20) && bytes % (1 << 20) == 0) {
            return (bytes >> 20) + " MiB";
        }
        if (bytes >= 1024 && bytes % 1024 == 0) {
            return (bytes >> 10) + " KiB";
        }
        return bytes + " B";
    }

    /** @return a whole number as such, else two decimals */
    static String num(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.format(Locale.ROOT, "%.2f", d);
    }
}
