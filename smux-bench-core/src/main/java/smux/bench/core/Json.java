package smux.bench.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A minimal JSON writer for the bench's one-line report: objects keep insertion order, numbers
 * are written plainly (doubles with at most four decimals), non-finite numbers become null.
 */
public final class Json {
    private Json() {
    }

    /** An ordered JSON object under construction. */
    public static final class Obj {
        private final Map<String, Object> fields = new LinkedHashMap<>();

        /**
         * Adds a field; values may be null, String, Number, Boolean, Obj, or a List of those.
         *
         * @param name the key
         * @param value the value
         * @return this object
         */
        public Obj put(String name, Object value) {
            fields.put(name, value);
            return this;
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder();
            write(this, b);
            return b.toString();
        }
    }

    /** @return a new empty object */
    public static Obj obj() {
        return new Obj();
    }

    /** @return a new empty list for JSON arrays */
    public static List<Object> list() {
        return new ArrayList<>();
    }

    private static void write(Object v, StringBuilder b) {
        if (v == null) {
            b.append("null");
        } else if (v instanceof Obj o) {
            b.append('{');
            boolean first = true;
            for (Map.Entry<String, Object> e : o.fields.entrySet()) {
                if (!first) {
                    b.append(',');
                }
                first = false;
                string(e.getKey(), b);
                b.append(':');
                write(e.getValue(), b);
            }
            b.append('}');
        } else if (v instanceof List<?> l) {
            b.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) {
                    b.append(',');
                }
                write(l.get(i), b);
            }
            b.append(']');
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                b.append("null");
            } else if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                b.append((long) d);
            } else {
                String s = String.format(Locale.ROOT, "%.4f", d);
                // trim trailing zeros of the fraction
                int end = s.length();
                while (s.charAt(end - 1) == '0') {
                    end--;
                }
                if (s.charAt(end - 1) == '.') {
                    end--;
                }
                b.append(s, 0, end);
            }
        } else if (v instanceof Number || v instanceof Boolean) {
            b.append(v);
        } else {
            string(v.toString(), b);
        }
    }

    private static void string(String s, StringBuilder b) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
            }
        }
        b.append('"');
    }
}
