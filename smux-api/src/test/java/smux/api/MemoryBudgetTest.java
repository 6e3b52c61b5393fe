package smux.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class MemoryBudgetTest {
    private static final long MIB = 1L << 20;

    @Test
    void reservesUpToCapacityAndGivesBack() {
        MemoryBudget b = MemoryBudget.of(4 * MIB);
        assertTrue(b.tryReserve(0, 4 * MIB), "a first reservation needs only room");
        assertFalse(b.tryReserve(0, 1), "nothing is left");
        assertEquals(4 * MIB, b.used());
        b.release(4 * MIB);
        assertEquals(0, b.used());
        assertEquals(4 * MIB, b.peak());
        assertEquals(1, b.refusals());
    }

    @Test
    void aSessionHoldsNoMoreThanWhatStaysFreeForTheOthers() {
        MemoryBudget b = MemoryBudget.of(64 * MIB);
        long hostile = 0;
        while (b.tryReserve(hostile, MIB)) {
            hostile += MIB;
        }
        assertEquals(32 * MIB, hostile, "one session that takes all it can gets half");
        long second = 0;
        while (b.tryReserve(second, MIB)) {
            second += MIB;
        }
        assertEquals(16 * MIB, second, "the next gets half of what is left");
        assertTrue(b.tryReserve(0, MIB), "and a newcomer still gets a stream");
    }

    @Test
    void manyGreedySessionsNeverExceedTheCapacity() {
        MemoryBudget b = MemoryBudget.of(64 * MIB);
        List<Long> held = new ArrayList<>();
        for (int s = 0; s < 50; s++) {
            long h = 0;
            while (b.tryReserve(h, 256 * 1024)) {
                h += 256 * 1024;
            }
            held.add(h);
        }
        assertEquals(held.stream().mapToLong(Long::longValue).sum(), b.used());
        assertTrue(b.used() <= b.capacity());
    }

    @Test
    @Timeout(20)
    void concurrentReservationsNeverOvershoot() throws InterruptedException {
        MemoryBudget b = MemoryBudget.of(16 * MIB);
        int threads = 8;
        CountDownLatch start = new CountDownLatch(1);
        AtomicLong granted = new AtomicLong();
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 100_000; i++) {
                    if (b.tryReserve(0, 4096)) {
                        granted.addAndGet(4096);
                        if ((i & 1) == 0) {
                            b.release(4096);
                            granted.addAndGet(-4096);
                        }
                    }
                }
            });
            th.start();
            all.add(th);
        }
        start.countDown();
        for (Thread th : all) {
            th.join();
        }
        assertEquals(granted.get(), b.used());
        assertTrue(b.peak() <= b.capacity());
    }

    @Test
    void releasingMoreThanReservedIsABug() {
        MemoryBudget b = MemoryBudget.of(MIB);
        assertTrue(b.tryReserve(0, 1000));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.release(1001));
        assertTrue(e.getMessage().contains("more than"), e.getMessage());
        assertEquals(1000, b.used(), "a failed release changes nothing");
    }

    @Test
    void badArgumentsSayWhatToDo() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MemoryBudget.of(1000));
        assertTrue(e.getMessage().contains("at least 1 MiB"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MemoryBudget.of(MIB).tryReserve(0, 0));
    }

    @Test
    void sizesParseWithSuffixes() {
        assertEquals(65536, MemoryBudget.parseSize("65536"));
        assertEquals(512 * 1024, MemoryBudget.parseSize("512k"));
        assertEquals(64 * MIB, MemoryBudget.parseSize(" 64M "));
        assertEquals(2L << 30, MemoryBudget.parseSize("2g"));
        for (String bad : new String[] {"", "m", "-1", "0", "12x", "1.5g", "99999999999g"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MemoryBudget.parseSize(bad));
            assertTrue(e.getMessage().contains(MemoryBudget.PROPERTY), e.getMessage());
        }
    }

    @Test
    void theProcessWideBudgetIsOneAndAtLeast16MiB() {
        assertTrue(MemoryBudget.processWide() == MemoryBudget.processWide());
        assertTrue(MemoryBudget.processWide().capacity() >= 16 * MIB);
    }
}
