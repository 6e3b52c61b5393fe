package smux.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The engine has one stream path, the one production runs: a stream's bytes live in the sides its
 * caller made ({@link StreamSides}), and the engine reaches a stream through its view
 * ({@link SmuxEngine#stream}). This fails if a second, engine-owned path comes back, as it was
 * before: the engine reading, writing or withdrawing by stream id, binding sides late, or keeping
 * an {@link Inbound} or {@link Outbound} of its own for tests to use.
 */
class OneStreamPathTest {
    /** The public methods of the engine that take an int: the view by id, and the probe's and ping's random values. */
    private static final Set<String> INT_TAKERS = Set.of("stream(int)", "startProbe(int,int,long)", "ping(int,int,long)");

    @Test
    void theEngineHasNoPerIdStreamOperations() {
        List<String> found = new ArrayList<>();
        for (Method m : SmuxEngine.class.getMethods()) {
            if (m.getDeclaringClass() != SmuxEngine.class || Modifier.isStatic(m.getModifiers())) {
                continue;
            }
            String signature = m.getName() + "(" + String.join(",", Arrays.stream(m.getParameterTypes())
                    .map(Class::getSimpleName).toArray(String[]::new)) + ")";
            boolean takesInt = Arrays.asList(m.getParameterTypes()).contains(int.class);
            if (takesInt && !INT_TAKERS.contains(signature)) {
                found.add(signature);
            }
        }
        assertEquals(List.of(), found, "per-stream operations belong on StreamView, reached by stream(id)");
    }

    @Test
    void noStreamOperationMovesBytes() {
        TreeSet<String> names = new TreeSet<>();
        for (Method m : StreamView.class.getMethods()) {
            names.add(m.getName());
        }
        assertEquals(new TreeSet<>(List.of("id", "sides", "state", "receiveWindow", "measuredRoundTrip", "bufferedBytes",
                "consumed", "outboundChanged", "close")), names,
                "a stream's bytes move through its sides only: the view reports news, it does not read or write");
    }

    @Test
    void theEngineKeepsNoStreamSidesOfItsOwn() throws ClassNotFoundException {
        List<String> found = new ArrayList<>();
        for (EngineClassFiles.ClassFile c : EngineClassFiles.all()) {
            Class<?> type = Class.forName(c.name().replace('/', '.'), false, SmuxEngine.class.getClassLoader());
            for (Class<?> side : List.of(Inbound.class, Outbound.class, StreamSides.class)) {
                if (side.isAssignableFrom(type) && type != side) {
                    found.add(type.getName() + " is a " + side.getSimpleName());
                }
            }
        }
        assertEquals(List.of(), found, "every stream's sides come from the caller's StreamSides.Factory");
    }
}
