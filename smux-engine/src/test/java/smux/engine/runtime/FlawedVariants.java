package smux.engine.runtime;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.spi.ToolProvider;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The flawed variants of the model-checked classes, derived at test time from the real source: for a
 * {@link Flaw}, the real class's {@code src/main/java} file is patched ({@link Flaw#patchedSource}),
 * compiled with the JDK's javac into {@code target/flawed-variants/}, and defined in this package under a name of its own,
 * {@code <Class>_<FLAW>} (for example {@code SendSide_POST_CHECKS_THEN_SETS}), beside the real class,
 * so that it reaches the package-private classes the real one does and clashes with nothing. Its
 * parks and unparks are made exact as the real class's are ({@link ExactPark}). The scenarios reach
 * it through a renamed copy of the real class's adapter ({@link SendSideOutbox}, {@link ReceiveSideInbox}),
 * whose bytecode is reused with the names changed.
 *
 * <p>Used by the model-checked tests only, which run on the class path (see smux-engine's pom).
 */
final class FlawedVariants {
    /** The factory of each flaw's variant: each is compiled and defined once per JVM. */
    private static final Map<Flaw, Object> FACTORIES = new HashMap<>();

    private FlawedVariants() {
    }

    /** @return a maker of outboxes over {@code flaw}'s variant of {@link SendSide} */
    @SuppressWarnings("unchecked")
    static Supplier<Outbox> outboxes(SendSideFlaw flaw) {
        return (Supplier<Outbox>) factory(flaw, SendSideOutbox.class, SendSideOutbox.Factory.class);
    }

    /** @return a maker of inboxes over {@code flaw}'s variant of {@link ReceiveSide} */
    static Inbox.Factory inboxes(ReceiveSideFlaw flaw) {
        return (Inbox.Factory) factory(flaw, ReceiveSideInbox.class, ReceiveSideInbox.Factory.class);
    }

    /** The simple name of {@code flaw}'s variant of a class whose simple name is {@code simpleName}. */
    static String variantName(String simpleName, Flaw flaw) {
        return simpleName + "_" + flaw.name();
    }

    /**
     * Compiles and defines {@code flaw}'s variant of its real class, and a renamed copy of the real
     * class's adapter and its factory.
     *
     * @return an instance of the renamed {@code adapterFactory}
     */
    private static synchronized Object factory(Flaw flaw, Class<?> adapter, Class<?> adapterFactory) {
        Object made = FACTORIES.get(flaw);
        if (made != null) {
            return made;
        }
        Class<?> real = flaw.real();
        Map<String, byte[]> classes = compile(flaw, real.getName(), flaw.patchedSource());
        for (Class<?> c : List.of(adapter, adapterFactory)) {
            classes.put(internalName(c.getName()), ExactPark.classFile(c.getName()));
        }
        Map<String, String> renames = new HashMap<>();
        for (String name : classes.keySet()) {
            renames.put(name, renamed(name, flaw));
        }
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        Class<?> factory = null;
        for (Map.Entry<String, byte[]> c : classes.entrySet()) { // in order: the variant before its users
            try {
                Class<?> defined = lookup.defineClass(ExactPark.remap(c.getValue(), renames));
                if (c.getKey().equals(internalName(adapterFactory.getName()))) {
                    factory = defined;
                }
            } catch (IllegalAccessException | LinkageError e) {
                throw new IllegalStateException("cannot define " + renamed(c.getKey(), flaw) + ", the variant of "
                        + c.getKey() + " with flaw " + flaw.qualifiedName(), e);
            }
        }
        try {
            made = factory.getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot make the factory of flaw " + flaw.qualifiedName(), e);
        }
        FACTORIES.put(flaw, made);
        return made;
    }

    /** {@code a/b/C$D} becomes {@code a/b/C_FLAW$D}: the top-level class gets the flaw's name. */
    private static String renamed(String internalName, Flaw flaw) {
        int slash = internalName.lastIndexOf('/');
        int dollar = internalName.indexOf('$', slash);
        int end = dollar < 0 ? internalName.length() : dollar;
        return internalName.substring(0, slash + 1) + variantName(internalName.substring(slash + 1, end), flaw)
                + internalName.substring(end);
    }

    private static String internalName(String binaryName) {
        return binaryName.replace('.', '/');
    }

    /**
     * Compiles {@code source}, the patched source of the class {@code binaryName}, as Maven compiles
     * the real one (release 17) against the tests' class path, with the JDK's javac. The source and
     * its class files stay in {@code target/flawed-variants/<Class>_<FLAW>/} to be read (a checker's
     * report names lines of that source).
     *
     * @return the class files made, by internal name: the top-level class first
     */
    private static Map<String, byte[]> compile(Flaw flaw, String binaryName, String source) {
        ToolProvider javac = ToolProvider.findFirst("javac").orElseThrow(() -> new IllegalStateException(
                "no javac in this runtime (" + System.getProperty("java.home")
                        + "): the model-checked tests compile the flawed variants, run them on a JDK"));
        Path dir = Flaw.moduleDirectory().resolve(Path.of("target", "flawed-variants")).resolve(
                variantName(flaw.real().getSimpleName(), flaw));
        Path sources = dir.resolve("src");
        Path classes = dir.resolve("classes");
        Path file = sources.resolve(internalName(binaryName) + ".java");
        StringWriter errors = new StringWriter();
        int status;
        try {
            deleteTree(dir);
            Files.createDirectories(file.getParent());
            Files.createDirectories(classes);
            Files.writeString(file, source, StandardCharsets.UTF_8);
            status = javac.run(new PrintWriter(errors), new PrintWriter(errors), "--release", "17", "-g", "-proc:none",
                    "-implicit:none", "-nowarn", "-encoding", "UTF-8", "-classpath", classPath(),
                    "-d", classes.toString(), file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot compile flaw " + flaw.qualifiedName() + " in " + dir, e);
        }
        if (status != 0) {
            throw new AssertionError("The deliberate flaw " + flaw.qualifiedName() + " applies to "
                    + flaw.real().getSimpleName() + ", but the patched source (" + file + ") does not compile:\n"
                    + errors + "The replacement no longer fits the code around its anchor: update it in "
                    + flaw.getClass().getSimpleName() + ".java (see the Javadoc of Flaw).");
        }
        Map<String, byte[]> made = new LinkedHashMap<>();
        String top = internalName(binaryName);
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path c : files.filter(f -> f.toString().endsWith(".class")).sorted().collect(Collectors.toList())) {
                String name = classes.relativize(c).toString().replace(File.separatorChar, '/').replaceAll("\\.class$", "");
                made.put(name, Files.readAllBytes(c));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the classes of flaw " + flaw.qualifiedName() + " in " + classes, e);
        }
        Map<String, byte[]> ordered = new LinkedHashMap<>();
        ordered.put(top, made.remove(top));
        ordered.putAll(made);
        return ordered;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
                Files.delete(p);
            }
        }
    }

    /**
     * The tests' class path: Surefire's own record of it, as its forked JVM may see only a jar whose
     * manifest names it; else the JVM's.
     */
    private static String classPath() {
        String path = System.getProperty("surefire.test.class.path");
        if (path == null || path.isBlank()) {
            path = System.getProperty("java.class.path");
        }
        return path;
    }
}
