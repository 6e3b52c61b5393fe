package smux.it.toxi;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Stopping child processes without leaving grandchildren behind. */
final class Processes {

    private Processes() {
    }

    static void destroyTree(Process process) {
        destroyTree(process.toHandle());
    }

    /**
     * Asks {@code root} and all its descendants to terminate, waits a little, then kills what is left. The
     * descendants are listed before anything is signalled: once the root is gone they are re-parented and
     * no longer show up as its descendants.
     */
    static void destroyTree(ProcessHandle root) {
        List<ProcessHandle> tree = new ArrayList<>(root.descendants().toList());
        tree.add(root);
        tree.forEach(ProcessHandle::destroy);
        for (ProcessHandle handle : tree) {
            awaitExit(handle);
        }
        for (ProcessHandle handle : tree) {
            if (handle.isAlive()) {
                handle.destroyForcibly();
                if (!awaitExit(handle)) {
                    ToxiproxyServerBinary.log("process " + handle.pid() + " is still alive after a forced kill");
                }
            }
        }
    }

    private static boolean awaitExit(ProcessHandle handle) {
        try {
            handle.onExit().get(5, TimeUnit.SECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            return false;
        }
    }
}
