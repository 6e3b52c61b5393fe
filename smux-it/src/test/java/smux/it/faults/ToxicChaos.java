package smux.it.faults;

import eu.rekawek.toxiproxy.model.Toxic;
import eu.rekawek.toxiproxy.model.ToxicDirection;
import eu.rekawek.toxiproxy.model.ToxicList;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import smux.it.toxi.ProxyHandle;

/**
 * Adds and removes Toxiproxy toxics on one proxy at random while an episode runs, on its own thread.
 *
 * <p>Benign toxics delay, throttle or fragment the connection and keep every byte, so they may come and go
 * at any moment: {@code latency} (1-200 ms, jitter up to half), {@code bandwidth} (32 KB/s to 16 MB/s, or 0,
 * a stall, which is always removed again within 1.5 s), {@code slicer} (segments of 256-2048 bytes,
 * up to size/4 µs apart), {@code slow_close} (up to 2 s). At most four are on the proxy at once.
 *
 * <p><b>Toxiproxy can drop bytes when a toxic is removed</b> (v2.12.0, {@code link.go} {@code RemoveToxic}):
 * the removed toxic's buffered chunks are handed to the next toxic of the chain with a 5 s timeout, and a chunk
 * that cannot be handed on in time is dropped ("Could not write last packets after interrupt"); the API call
 * itself gives up after 25 s (HTTP 503). That happens when the removed toxic's output is blocked: a slow toxic
 * downstream (a stall, a slow {@code bandwidth}, a {@code slicer} of tiny segments, whose microsecond delays
 * cost far more in practice), or a receiver that stops reading (a version 1 session whose budget is spent). A
 * hole in the byte stream is not a fault a multiplexer can survive (nor any TCP user without checksums), so the
 * chaos keeps the chain flushable: a {@code bandwidth} toxic is added only to a direction that has no toxic yet
 * (so it is always first, with only fast toxics after it), and the {@code slicer} cuts segments of at least 256
 * bytes. Since a receiver may still hold its reading back, every removal is timed: one that took
 * {@value #TAINT_MILLIS} ms or more, or failed, may have dropped bytes, and {@link #taint()} says so; the episode
 * then books what went wrong on its connection apart. Tests that need a stall in the middle of a chain must not
 * remove what is upstream of it.
 *
 * <p>Terminal toxics end the connection, and are never removed: {@code timeout} (0: a black hole, so the
 * sessions must notice by their keepalive timeout; otherwise the proxy closes the connection after 50-2000 ms)
 * and {@code reset_peer} (after 0-500 ms). {@code timeout} drops the bytes it swallows: removing it would hand
 * the receiver a byte stream with a hole in it, which no protocol without checksums survives, so the connection
 * it touches is left to die. An episode asks for at most one, at a moment it picks.
 */
final class ToxicChaos implements Runnable {
    private static final int MAX_ACTIVE = 4;
    /** A removal this slow may have hit Toxiproxy's 5 s flush timeout. */
    static final long TAINT_MILLIS = 4_000;
    private static final long[] RATES_KBPS = {0, 32, 128, 512, 2048, 16_384};

    private record Active(Toxic toxic, String type, ToxicDirection direction, long removeAtNanos) {
    }

    private final ProxyHandle proxy;
    private final SplittableRandom random;
    private final FaultLedger ledger;
    private final long terminalAtNanos;
    private final List<Active> active = new ArrayList<>();
    private volatile boolean stopped;
    private volatile String taint;
    private boolean terminalDone;
    private int names;
    private final Thread thread;

    /** @param terminalAtNanos when to end the connection ({@link System#nanoTime()}), or 0 for never */
    ToxicChaos(ProxyHandle proxy, long seed, FaultLedger ledger, long terminalAtNanos, String name) {
        this.proxy = proxy;
        this.random = new SplittableRandom(seed);
        this.ledger = ledger;
        this.terminalAtNanos = terminalAtNanos;
        this.thread = new Thread(this, name);
        this.thread.setDaemon(true);
    }

    ToxicChaos start() {
        thread.start();
        return this;
    }

    @Override
    public void run() {
        try {
            while (!stopped) {
                long next = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50 + random.nextInt(550));
                while (!stopped && System.nanoTime() < next) {
                    LockSupport.parkNanos(Math.min(next - System.nanoTime(), TimeUnit.MILLISECONDS.toNanos(20)));
                    removeExpired();
                }
                if (stopped) {
                    return;
                }
                step();
            }
        } catch (IOException | RuntimeException e) {
            if (!stopped) {
                ledger.anomaly("Toxiproxy API failed on proxy " + proxy.name() + ": " + FaultLedger.describe(e));
            }
        }
    }

    private synchronized void step() throws IOException {
        if (terminalDone) {
            return; // the connection is ending: leave its toxics alone (see stopAndClear)
        }
        if (terminalAtNanos != 0 && System.nanoTime() >= terminalAtNanos) {
            terminalDone = true;
            addTerminal();
        } else if (active.size() < MAX_ACTIVE && (active.isEmpty() || random.nextInt(10) < 6)) {
            addBenign();
        } else if (!active.isEmpty()) {
            remove(active.remove(random.nextInt(active.size())));
        }
    }

    /** Removes a toxic, timing it: a slow or failed removal may have dropped bytes ({@link #taint()}). */
    private void remove(Active a) {
        long start = System.nanoTime();
        String failure = null;
        try {
            a.toxic().remove();
        } catch (IOException e) {
            failure = e.toString();
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        if ((failure != null || millis >= TAINT_MILLIS) && taint == null) {
            taint = "removing " + a.type() + " toxic " + a.toxic().getName() + " (" + a.direction() + ") took "
                    + millis + " ms" + (failure != null ? " and failed: " + failure : "");
        }
    }

    /** @return why Toxiproxy may have dropped bytes of this connection (a removal was slow or failed), or null */
    String taint() {
        return taint;
    }

    private synchronized void removeExpired() {
        if (terminalDone) {
            return;
        }
        long now = System.nanoTime();
        for (int i = active.size() - 1; i >= 0; i--) {
            Active a = active.get(i);
            if (a.removeAtNanos() != 0 && now >= a.removeAtNanos()) {
                active.remove(i);
                remove(a);
            }
        }
    }

    private ToxicDirection direction() {
        return random.nextBoolean() ? ToxicDirection.UPSTREAM : ToxicDirection.DOWNSTREAM;
    }

    private void addBenign() throws IOException {
        ToxicList toxics = proxy.toxics();
        String name = "t" + names++;
        ToxicDirection direction = direction();
        boolean first = active.stream().noneMatch(a -> a.direction() == direction);
        Toxic t;
        String type;
        long removeAt = 0;
        switch (random.nextInt(first ? 4 : 3)) {
            case 0 -> {
                long latency = 1 + random.nextInt(200);
                t = toxics.latency(name, direction, latency).setJitter(random.nextLong(latency / 2 + 1));
                type = "latency";
            }
            case 3 -> {
                long rate = RATES_KBPS[random.nextInt(RATES_KBPS.length)];
                t = toxics.bandwidth(name, direction, rate);
                if (rate == 0) {
                    removeAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100 + random.nextInt(1400));
                }
                type = rate == 0 ? "bandwidth 0" : "bandwidth";
            }
            case 1 -> {
                long size = 256 + random.nextInt(1793);
                t = toxics.slicer(name, direction, size, random.nextLong(size / 4 + 1)).setSizeVariation(random.nextLong(size / 2 + 1));
                type = "slicer";
            }
            default -> {
                t = toxics.slowClose(name, direction, random.nextInt(2000));
                type = "slow_close";
            }
        }
        ledger.toxic(type);
        active.add(new Active(t, type, direction, removeAt));
    }

    private void addTerminal() throws IOException {
        ToxicList toxics = proxy.toxics();
        if (random.nextBoolean()) {
            long timeout = random.nextInt(3) == 0 ? 0 : 50 + random.nextInt(1950);
            toxics.timeout("end", direction(), timeout);
            ledger.toxic(timeout == 0 ? "timeout 0" : "timeout");
        } else {
            toxics.resetPeer("end", direction(), random.nextInt(500));
            ledger.toxic("reset_peer");
        }
        ledger.terminalFaults.increment();
    }

    /** @return whether the terminal toxic has been added */
    synchronized boolean terminalDone() {
        return terminalDone;
    }

    /**
     * Stops adding toxics and removes the benign ones still on. After a terminal toxic nothing is removed: the
     * connection is ending, and flushing into a {@code reset_peer} that no longer reads could only block.
     */
    void stopAndClear() throws InterruptedException {
        stopped = true;
        thread.join(TimeUnit.SECONDS.toMillis(30));
        synchronized (this) {
            if (terminalDone) {
                active.clear();
                return;
            }
            for (Active a : active) {
                remove(a);
            }
            active.clear();
        }
    }
}
