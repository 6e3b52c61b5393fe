package smux.cli;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * SIGTERM and Ctrl-C (SIGINT) for the long-running commands: the first starts the graceful stop
 * (a drain), a second ends the drain at once, saying so, and a third exits without waiting for
 * anything.
 *
 * <p>A JVM shutdown hook cannot do this: while the hooks run, the JVM takes a second signal for
 * one more request to exit, which waits for the hooks, so a second Ctrl-C used to do nothing for
 * the whole drain. Instead the command handles the signals itself, through
 * {@code sun.misc.Signal} (module {@code jdk.unsupported}, in every JDK since 9), found by
 * reflection so that the build has no warning for it. The JVM then no longer exits on these
 * signals: the graceful stop ends the command, which exits 0. Where the class is missing, a
 * shutdown hook runs the graceful stop, as before.
 */
final class Signals {
    private static final AtomicInteger RECEIVED = new AtomicInteger();

    private Signals() {
    }

    /**
     * Installs the handlers.
     *
     * @param log where a second or third signal is reported
     * @param graceful the stop: runs on a thread of its own at the first signal
     * @param cut ends the graceful stop at once (cuts the streams still draining): runs at the second
     */
    static void onStop(Log log, Runnable graceful, Runnable cut) {
        Runnable onSignal = () -> {
            switch (RECEIVED.incrementAndGet()) {
                case 1 -> {
                    Thread stop = new Thread(graceful, "smux-cli-stop");
                    stop.start();
                }
                case 2 -> {
                    log.info("second signal: ending the drain now; streams still open are cut (a third signal exits at once)");
                    cut.run();
                }
                default -> {
                    log.info("third signal: exiting at once");
                    Runtime.getRuntime().halt(130);
                }
            }
        };
        if (!handle(onSignal, "TERM", "INT")) {
            Runtime.getRuntime().addShutdownHook(new Thread(graceful, "smux-cli-stop"));
        }
    }

    /** @return false if {@code sun.misc.Signal} cannot be used here */
    private static boolean handle(Runnable onSignal, String... names) {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
            InvocationHandler call = (proxy, method, args) -> dispatch(proxy, method, args, onSignal);
            Object handler = Proxy.newProxyInstance(Signals.class.getClassLoader(), new Class<?>[] {handlerType}, call);
            Method handle = signal.getMethod("handle", signal, handlerType);
            for (String name : names) {
                handle.invoke(null, signal.getConstructor(String.class).newInstance(name), handler);
            }
            return true;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return false;
        }
    }

    private static Object dispatch(Object proxy, Method method, Object[] args, Runnable onSignal) {
        return switch (method.getName()) {
            case "handle" -> {
                onSignal.run();
                yield null;
            }
            case "equals" -> proxy == args[0];
            case "hashCode" -> System.identityHashCode(proxy);
            default -> "smux signal handler";
        };
    }
}
