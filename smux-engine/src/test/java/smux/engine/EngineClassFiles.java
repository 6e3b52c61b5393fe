package smux.engine;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * The compiled classes of package {@code smux.engine} itself (not its subpackages, not the tests),
 * as bytes, read from wherever {@link SmuxEngine} was loaded: the build's class directory or the
 * module's jar.
 */
final class EngineClassFiles {
    private static final String PACKAGE = "smux/engine/";

    private EngineClassFiles() {
    }

    /** A class file: its internal name ({@code smux/engine/SmuxEngine}) and its bytes. */
    record ClassFile(String name, byte[] bytes) { }

    static List<ClassFile> all() {
        List<ClassFile> out = new ArrayList<>();
        try {
            Path where = Path.of(SmuxEngine.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isDirectory(where)) {
                try (Stream<Path> files = Files.list(where.resolve(PACKAGE))) {
                    for (Path f : (Iterable<Path>) files.sorted()::iterator) {
                        String file = f.getFileName().toString();
                        if (file.endsWith(".class")) {
                            out.add(new ClassFile(PACKAGE + file.substring(0, file.length() - 6), Files.readAllBytes(f)));
                        }
                    }
                }
            } else {
                try (JarFile jar = new JarFile(where.toFile())) {
                    for (JarEntry e : (Iterable<JarEntry>) jar.stream()::iterator) {
                        String n = e.getName();
                        if (n.startsWith(PACKAGE) && n.endsWith(".class") && n.indexOf('/', PACKAGE.length()) < 0) {
                            try (InputStream in = jar.getInputStream(e)) {
                                out.add(new ClassFile(n.substring(0, n.length() - 6), in.readAllBytes()));
                            }
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        if (out.size() < 20) {
            throw new AssertionError("found only " + out.size() + " classes of smux.engine: the test reads the wrong place");
        }
        return out;
    }

    /** @return the bytes of a class of this test's own (to prove that a check catches what it should) */
    static byte[] bytesOf(Class<?> c) {
        String resource = c.getName().substring(c.getPackageName().length() + 1) + ".class";
        try (InputStream in = c.getResourceAsStream(resource)) {
            if (in == null) {
                throw new AssertionError("no class file for " + c.getName());
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
