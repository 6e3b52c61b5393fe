package smux.engine.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.commons.ClassRemapper;
import org.objectweb.asm.commons.SimpleRemapper;

/**
 * {@link LockSupport}'s park and unpark with an exact permit, for classes under the model checker.
 *
 * <p>Why: Lincheck explores a {@code LockSupport.park} in user code as a park that may always wake
 * up spuriously, i.e. as a mere yield. A thread that would sleep forever in a real JVM, because the
 * unpark meant for it went to somebody else, then simply goes on once its condition holds, and a
 * lost wake-up is never seen. Parks inside {@code java.util.concurrent.locks}' synchronizers are
 * explored as real blocking (the checker knows they cannot wake without a signal), so this permit is
 * built on a {@link ReentrantLock} and its {@link Condition}: a thread parks until an unpark gave it
 * the permit, exactly the JDK's contract minus spurious wake-ups; a missed unpark leaves it blocked,
 * and the checker reports the schedule as a deadlock.
 *
 * <p>{@link #redirect} defines a class of the runtime package from its own bytecode with every
 * reference to {@code LockSupport} pointing here instead: nothing else in it changes. Timed parks
 * keep the JDK's (and the checker's) meaning, since they may end at any time anyway.
 */
final class ExactPark {
    /** Classes already defined here (another test class of this JVM may ask again). */
    private static final Set<String> REDIRECTED = new HashSet<>();

    private ExactPark() {
    }

    static void park(Object blocker) {
        if (Thread.currentThread() instanceof Parker me) {
            me.parkExactly();
        } else {
            LockSupport.park(blocker);
        }
    }

    static void parkNanos(Object blocker, long nanos) {
        LockSupport.parkNanos(blocker, nanos);
    }

    static void unpark(Thread thread) {
        if (thread instanceof Parker p) {
            p.unparkExactly();
        } else {
            LockSupport.unpark(thread);
        }
    }

    /**
     * A scenario's thread, which holds its own permit: no state outlives a schedule (the checker
     * replays schedules and insists that each run of one does the same), and threads that are not
     * a scenario's park as usual.
     */
    static class Parker extends Thread {
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition unparked = lock.newCondition();
        private boolean permit;
        /**
         * The body, held here as well as by {@link Thread} itself, for the checker's sake. It treats
         * every object created during a schedule as local to its thread (no switch point at its
         * reads and writes) until the object is reachable from a started thread, which it finds by
         * following fields. JDK 17 keeps the body in {@code Thread.target}; JDK 19 and later keep
         * it in a {@code Thread.FieldHolder} the checker did not create and does not follow, so on
         * JDK 25 the scenario's objects stayed "local" and only atomics, locks and parks were
         * interleaved: a plain field race was never found. This field makes the scenario reachable
         * from the thread on every JDK (ModelCheck checks that it is).
         */
        @SuppressWarnings("unused") // read by the checker, see above
        private final Runnable body;

        Parker(Runnable body) {
            super(body);
            this.body = body;
        }

        void parkExactly() {
            lock.lock();
            try {
                while (!permit) {
                    unparked.awaitUninterruptibly();
                }
                permit = false;
            } finally {
                lock.unlock();
            }
        }

        void unparkExactly() {
            lock.lock();
            try {
                permit = true;
                unparked.signal();
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Defines each named class of this package from its own class file with its parks and unparks
     * sent here. Must run before anything loads them, so the model-checked tests run in a JVM of
     * their own (see smux-engine's pom).
     *
     * @param classes simple names of classes in this package
     */
    static synchronized void redirect(String... classes) {
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        for (String name : classes) {
            if (!REDIRECTED.add(name)) {
                continue; // another test class of this JVM did it
            }
            byte[] original = classFile(ExactPark.class.getPackageName() + '.' + name);
            try {
                lookup.defineClass(remap(original, Map.of()));
            } catch (LinkageError | IllegalAccessException e) {
                throw new IllegalStateException(name + " was loaded before its parks could be made exact:"
                        + " run the model-checked tests in a JVM of their own (mvn -pl smux-engine verify does)", e);
            }
        }
    }

    /**
     * Sends the parks and unparks of a class file here, and renames classes in it.
     *
     * @param bytes a class file
     * @param renames internal names to rename ({@code a/b/C} to {@code a/b/D}), the flawed variants' own
     * @return the class file with its parks and unparks sent here, and {@code renames} applied
     */
    static byte[] remap(byte[] bytes, Map<String, String> renames) {
        Map<String, String> names = new HashMap<>(renames);
        names.put("java/util/concurrent/locks/LockSupport", ExactPark.class.getName().replace('.', '/'));
        ClassWriter writer = new ClassWriter(0);
        new ClassReader(bytes).accept(new ClassRemapper(writer, new SimpleRemapper(Opcodes.ASM9, names)), 0);
        return writer.toByteArray();
    }

    /** @return the class file of the class {@code binaryName} ({@code a.b.C$D}), read as a resource of the test's class path */
    static byte[] classFile(String binaryName) {
        String resource = binaryName.replace('.', '/') + ".class";
        try (InputStream in = ExactPark.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("no class file " + resource);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + resource, e);
        }
    }
}
