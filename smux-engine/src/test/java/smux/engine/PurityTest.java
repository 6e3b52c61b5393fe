package smux.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.InputStream;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.commons.ClassRemapper;
import org.objectweb.asm.commons.Remapper;

/**
 * The pure package is pure: no class of {@code smux.engine} (the protocol engine; the runtime
 * lives in {@code smux.engine.runtime}) holds a lock, touches a thread, reads a clock or does
 * I/O. Checked on the compiled classes, so nothing slips in through a fully qualified name:
 * synchronized methods and blocks, {@code wait}/{@code notify}, any reference to
 * {@code java.util.concurrent}, {@code Thread}/{@code ThreadLocal}, {@code System.nanoTime} /
 * {@code currentTimeMillis} and the {@code java.time} clocks, and {@code java.io} (but its
 * exceptions), {@code java.net}, {@code java.nio.channels} and {@code java.nio.file}.
 */
class PurityTest {

    @Test
    void theEnginePackageHasNoLocksThreadsClockOrIo() {
        List<String> found = new ArrayList<>();
        for (EngineClassFiles.ClassFile c : EngineClassFiles.all()) {
            found.addAll(impurities(c.bytes()));
        }
        assertEquals(List.of(), found, "smux.engine must stay free of locks, threads, clocks and I/O: "
                + "move the code to smux.engine.runtime, or pass the time or the bytes in");
    }

    @Test
    void theCheckCatchesEachKindOfImpurity() {
        TreeSet<String> kinds = new TreeSet<>();
        for (String s : impurities(EngineClassFiles.bytesOf(Impure.class))) {
            kinds.add(s.substring(s.indexOf(": ") + 2, s.indexOf(' ', s.indexOf(": ") + 2)));
        }
        assertEquals(new TreeSet<>(List.of("synchronized", "monitor", "java/util/concurrent/atomic/AtomicInteger",
                "java/lang/Thread", "java/lang/System.nanoTime", "java/lang/System.currentTimeMillis",
                "java/io/InputStream", "java/net/Socket", "java/nio/channels/SocketChannel", "java/lang/Object.wait")),
                kinds);
    }

    /** Everything that would make a class impure, one line each: "class: what where". */
    static List<String> impurities(byte[] classFile) {
        List<String> found = new ArrayList<>();
        ClassReader reader = new ClassReader(classFile);
        String owner = reader.getClassName();
        Remapper names = new Remapper() {
            @Override
            public String map(String internalName) {
                if (forbiddenType(internalName)) {
                    found.add(owner + ": " + internalName + " referenced");
                }
                return internalName;
            }

            @Override
            public String mapMethodName(String type, String name, String descriptor) {
                if (forbiddenCall(type, name)) {
                    found.add(owner + ": " + type + "." + name + " called");
                }
                return name;
            }
        };
        ClassVisitor inspector = new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                                             String[] exceptions) {
                if ((access & Opcodes.ACC_SYNCHRONIZED) != 0) {
                    found.add(owner + ": synchronized method " + name);
                }
                return new MethodVisitor(Opcodes.ASM9) {
                    @Override
                    public void visitInsn(int opcode) {
                        if (opcode == Opcodes.MONITORENTER) {
                            found.add(owner + ": monitor entered in " + name);
                        }
                    }
                };
            }
        };
        reader.accept(new ClassRemapper(inspector, names), 0);
        return found;
    }

    private static boolean forbiddenType(String name) {
        if (name.startsWith("java/io/")) {
            return !(name.endsWith("Exception") || name.endsWith("Error"));
        }
        return name.startsWith("java/util/concurrent/")
                || name.equals("java/lang/Thread") || name.startsWith("java/lang/Thread$")
                || name.equals("java/lang/ThreadLocal") || name.equals("java/lang/InheritableThreadLocal")
                || name.equals("java/lang/Runtime") || name.equals("java/lang/ProcessBuilder")
                || name.equals("java/time/Clock") || name.equals("java/time/InstantSource")
                || name.startsWith("java/net/") || name.startsWith("java/nio/channels/")
                || name.startsWith("java/nio/file/");
    }

    private static boolean forbiddenCall(String type, String name) {
        boolean clock = type.equals("java/lang/System") && (name.equals("nanoTime") || name.equals("currentTimeMillis"));
        boolean now = type.startsWith("java/time/") && name.equals("now");
        boolean monitor = type.equals("java/lang/Object") && (name.equals("wait") || name.startsWith("notify"));
        return clock || now || monitor;
    }

    /** Each thing the check must catch, once. Never run. */
    @SuppressWarnings("unused")
    private static final class Impure {
        private final AtomicInteger counter = new AtomicInteger();

        synchronized void locked() {
        }

        void block(Object o) throws Exception {
            synchronized (o) {
                o.wait();
            }
        }

        long time() {
            return System.nanoTime() + System.currentTimeMillis();
        }

        void io(InputStream in, Socket s, SocketChannel c) {
        }

        Thread thread() {
            return Thread.currentThread();
        }
    }
}
