package smux.bench.core;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import smux.api.Session;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;

/**
 * Heap per idle stream: one loopback session pair, N streams opened by the client and accepted
 * by the server, none carrying data. Used heap is read after forced collections, before the
 * streams are opened (the pair and the lists that will hold the streams already exist) and after.
 * Both ends live in this process, so the difference covers each stream's state on both ends.
 */
public final class IdleStreams {
    private IdleStreams() {
    }

    /**
     * @param bytesPerStream heap per stream, both ends together
     */
    public record Result(String transport, int streams, long heapBefore, long heapAfter, double bytesPerStream, String error) {
        double bytesPerStreamEnd() {
            return bytesPerStream / 2;
        }
    }

    static Result run(SmuxConfig base, int streams) throws Exception {
        String transport = base.transport().orElse("smux");
        long reserved = (streams + 16L) * Math.max(base.streamWindow(), SmuxConfig.INITIAL_PEER_WINDOW);
        SmuxConfig config = base.toBuilder().maxStreams(streams + 16).acceptBacklog(streams + 16)
                .maxSessionBuffer(reserved).memoryBudget(CaseConfig.forBothEnds(reserved)).build();
        Workers workers = new Workers("idle-" + transport);
        List<SmuxStream> opened = new ArrayList<>(streams);
        List<SmuxStream> accepted = new ArrayList<>(streams);
        Session[] pair = LoopbackPair.open(config);
        try {
            // one stream first, so the lazily built parts of a session exist before the baseline
            SmuxStream warm = pair[0].openStream();
            warm.outputStream().write(1);
            SmuxStream warmPeer = pair[1].acceptStream(Duration.ofSeconds(10));
            warmPeer.inputStream().read();
            long before = Heap.usedAfterGc();

            CompletableFuture<Void> done = new CompletableFuture<>();
            workers.start("accept", () -> {
                try {
                    for (int i = 0; i < streams; i++) {
                        accepted.add(pair[1].acceptStream(Duration.ofSeconds(30)));
                    }
                    done.complete(null);
                } catch (Throwable t) {
                    done.completeExceptionally(t);
                }
            });
            for (int i = 0; i < streams; i++) {
                opened.add(pair[0].openStream());
            }
            done.get(60, TimeUnit.SECONDS);
            long after = Heap.usedAfterGc();
            String error = pair[0].streamCount() == streams + 1 && pair[1].streamCount() == streams + 1 ? null
                    : "stream counts " + pair[0].streamCount() + " / " + pair[1].streamCount() + ", expected " + (streams + 1);
            // keep every stream reachable until the second reading
            if (opened.size() + accepted.size() != 2 * streams) {
                error = "opened " + opened.size() + ", accepted " + accepted.size();
            }
            return new Result(transport, streams, before, after, (after - before) / (double) streams, error);
        } finally {
            pair[0].close();
            pair[1].close();
            workers.joinAll(10_000);
        }
    }
}
