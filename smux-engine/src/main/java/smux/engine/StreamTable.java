package smux.engine;

import java.util.function.Consumer;

/**
 * Streams by id: an open-addressing hash table keyed by the primitive id, so looking up the
 * stream of each received frame neither boxes nor allocates. Linear probing, backward-shift
 * deletion, load factor at most 1/2.
 */
final class StreamTable {
    private int[] keys = new int[16];
    private EngineStream[] values = new EngineStream[16];
    private int size;

    int size() {
        return size;
    }

    EngineStream get(int id) {
        int mask = keys.length - 1;
        for (int i = mix(id) & mask; ; i = (i + 1) & mask) {
            EngineStream v = values[i];
            if (v == null || keys[i] == id) {
                return v;
            }
        }
    }

    void put(EngineStream s) {
        if ((size + 1) * 2 > keys.length) {
            resize(keys.length * 2);
        }
        int mask = keys.length - 1;
        int i = mix(s.id) & mask;
        while (values[i] != null && keys[i] != s.id) {
            i = (i + 1) & mask;
        }
        if (values[i] == null) {
            size++;
        }
        keys[i] = s.id;
        values[i] = s;
    }

    void remove(int id) {
        int mask = keys.length - 1;
        int i = mix(id) & mask;
        while (values[i] != null && keys[i] != id) {
            i = (i + 1) & mask;
        }
        if (values[i] == null) {
            return;
        }
        values[i] = null;
        size--;
        // Shift back the entries of the probe run after the hole so lookups still find them.
        for (int j = (i + 1) & mask; values[j] != null; j = (j + 1) & mask) {
            int home = mix(keys[j]) & mask;
            boolean movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
            if (movable) {
                keys[i] = keys[j];
                values[i] = values[j];
                values[j] = null;
                i = j;
            }
        }
    }

    void forEach(Consumer<EngineStream> action) {
        EngineStream[] snapshot = values.clone();
        for (EngineStream s : snapshot) {
            if (s != null) {
                action.accept(s);
            }
        }
    }

    private void resize(int capacity) {
        int[] oldKeys = keys;
        EngineStream[] oldValues = values;
        keys = new int[capacity];
        values = new EngineStream[capacity];
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldValues[i] != null) {
                put(oldValues[i]);
            }
        }
    }

    private static int mix(int id) {
        int h = id * 0x9E3779B9;
        return h ^ (h >>> 16);
    }
}
