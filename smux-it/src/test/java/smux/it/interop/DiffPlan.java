package smux.it.interop;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import smux.api.SmuxConfig;
import smux.it.interop.GoPeer.Release;

/**
 * A randomized, seeded script of stream operations for the differential tests: which side opens each
 * stream, what each side writes on it (sizes, pauses), how each side ends it, and the settings of the
 * session (frame size per side, window, Java transports). The same seed always gives the same plan, so a
 * failing run is replayed from its seed; {@link #write} saves it as the JSON the Go peer's plan mode reads
 * ({@code interop/plan.go}), and {@link PlanRunner} is the Java interpreter of the same plan.
 *
 * <p><b>Deterministic by construction.</b> Every way a side may end a stream has an outcome that does not
 * depend on timing (see {@link End}); so whatever the interleaving, each stream must deliver exactly what
 * the plan says, whoever runs each side. The one exception is {@link End#EARLY}: its reader gets a prefix
 * of the peer's bytes, so only "a correct prefix" is compared there.
 *
 * <p><b>What the plan avoids</b>, because xtaci/smux gets it wrong (docs/INTEROP.md, "Differential tests"):
 * <ul>
 *   <li>v1.5.16 has no {@code CloseWrite}: its plans use no {@link End#HALF};</li>
 *   <li>v1.5.16 registers a stream it opens only after sending the SYN, so frames its peer sends at once
 *       may be dropped: in its plans every acceptor waits for the opener's first byte ({@code waitFirst}),
 *       and every opener sends at least one byte;</li>
 *   <li>a writer whose peer closed early must never need a window update (a closed stream sends none, in
 *       both implementations, and v1.5.16 then fails the write with EOF): the peer of an {@link End#EARLY}
 *       side writes at most {@link #earlyCap} bytes.</li>
 * </ul>
 */
record DiffPlan(long seed, Release release, int version, int clientFrame, int serverFrame, int window,
                String clientTransport, String serverTransport, List<StreamPlan> streams) {

    /** Who does something. */
    enum Role {
        CLIENT, SERVER;

        String json() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        Role other() {
            return this == CLIENT ? SERVER : CLIENT;
        }
    }

    /** How a side ends its stream once its writes are done. */
    enum End {
        /** closeWrite; the probe; read to the peer's FIN; close. */
        HALF("half"),
        /** Read everything the peer sends (the plan says how much); close without waiting for its FIN; the probe. */
        CLOSE("close"),
        /** Read to the peer's FIN; close; the probe. Never on both sides of a stream (each would wait for the other). */
        EOF_CLOSE("eofclose"),
        /** Close at once, dropping what the peer still sends; the probe. Reads a prefix of the peer's bytes. */
        EARLY("early");

        final String json;

        End(String json) {
            this.json = json;
        }
    }

    /** One write: {@code size} bytes after a pause of {@code pauseMicros}. */
    record Write(int size, long pauseMicros) {
    }

    /**
     * One side of a stream. {@code content} seeds its bytes ({@link Content#mixed}); {@code probe}: after its end,
     * one more 1-byte write, which must be refused; {@code readDelayMicros}: its reader starts that late;
     * {@code readSize}: the buffer each read gets (0: 64 KiB; small reads make a v2 receiver report consumption
     * in small steps); {@code afterPeerFin}: its writes start only after the peer's FIN has arrived (only where
     * the peer half-closes without waiting for this side).
     */
    record SidePlan(long content, List<Write> writes, End end, boolean probe, long readDelayMicros, int readSize,
                    boolean afterPeerFin) {
        long total() {
            return writes.stream().mapToLong(Write::size).sum();
        }

        SidePlan withoutAfterPeerFin() {
            return new SidePlan(content, writes, end, probe, readDelayMicros, readSize, false);
        }
    }

    /** One stream: its opener, the opener's pause before opening it, and what each side does. */
    record StreamPlan(int index, Role opener, long openDelayMicros, boolean waitFirst, SidePlan client, SidePlan server) {
        SidePlan side(Role r) {
            return r == Role.CLIENT ? client : server;
        }
    }

    static final int MAX_STREAMS = 10;
    /** Frames one direction of a session may need at most, so that tiny frame sizes stay quick. */
    static final int FRAME_BUDGET = 12_000;
    static final int MAX_BYTES_PER_DIRECTION = 3 << 20;
    static final int MAX_WRITE = 256 * 1024;
    static final int[] WINDOWS = {8 * 1024, 32 * 1024, 64 * 1024, 256 * 1024, 512 * 1024, 1024 * 1024};

    /** The plan of {@code seed}, within what {@code release} handles correctly (see the class comment). */
    static DiffPlan generate(long seed, Release release, int version) {
        SplittableRandom r = new SplittableRandom(seed);
        boolean old = release == Release.V1_5_16;
        int clientFrame = logUniform(r, 1, SmuxConfig.MAX_FRAME_SIZE);
        int serverFrame = logUniform(r, 1, SmuxConfig.MAX_FRAME_SIZE);
        int window = WINDOWS[r.nextInt(WINDOWS.length)];
        String clientTransport = Combo.TRANSPORTS.get(r.nextInt(2));
        String serverTransport = Combo.TRANSPORTS.get(r.nextInt(2));
        int n = 1 + r.nextInt(MAX_STREAMS);

        List<Role> openers = new ArrayList<>();
        List<List<Integer>> clientWrites = new ArrayList<>();
        List<List<Integer>> serverWrites = new ArrayList<>();
        List<End[]> ends = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            openers.add(r.nextBoolean() ? Role.CLIENT : Role.SERVER);
            clientWrites.add(writeSizes(r));
            serverWrites.add(writeSizes(r));
            End c = end(r, release);
            End s = end(r, release);
            if (c == End.EOF_CLOSE && s == End.EOF_CLOSE) {
                s = End.CLOSE;
            }
            ends.add(new End[] {c, s});
        }
        // Scale each direction to its frame budget, then cap what goes to an early closer.
        scale(clientWrites, Math.min(MAX_BYTES_PER_DIRECTION, (long) clientFrame * FRAME_BUDGET));
        scale(serverWrites, Math.min(MAX_BYTES_PER_DIRECTION, (long) serverFrame * FRAME_BUDGET));
        int cap = earlyCap(window);
        for (int i = 0; i < n; i++) {
            if (ends.get(i)[0] == End.EARLY) {
                capTotal(serverWrites.get(i), cap);
            }
            if (ends.get(i)[1] == End.EARLY) {
                capTotal(clientWrites.get(i), cap);
            }
            if (old) {
                List<Integer> opener = openers.get(i) == Role.CLIENT ? clientWrites.get(i) : serverWrites.get(i);
                if (opener.stream().mapToInt(Integer::intValue).sum() == 0) {
                    opener.add(0, 1 + r.nextInt(1000));
                }
            }
        }

        List<StreamPlan> streams = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            boolean waitFirst = old || r.nextInt(5) == 0;
            long openDelay = r.nextInt(10) < 6 ? 0 : r.nextInt(5_000);
            SidePlan client = side(r, contentSeed(seed, i, Role.CLIENT), clientWrites.get(i), ends.get(i)[0],
                    ends.get(i)[1], total(serverWrites.get(i)));
            SidePlan server = side(r, contentSeed(seed, i, Role.SERVER), serverWrites.get(i), ends.get(i)[1],
                    ends.get(i)[0], total(clientWrites.get(i)));
            // Waiting for the peer's FIN before writing is only safe if the peer sends it without waiting for
            // anything of ours: not both sides, and not an opener whose acceptor waits for its first byte.
            Role opener = openers.get(i);
            if (server.afterPeerFin() && (client.afterPeerFin() || waitFirst && opener == Role.SERVER)) {
                server = server.withoutAfterPeerFin();
            }
            if (client.afterPeerFin() && waitFirst && opener == Role.CLIENT) {
                client = client.withoutAfterPeerFin();
            }
            streams.add(new StreamPlan(i, opener, openDelay, waitFirst, client, server));
        }
        return new DiffPlan(seed, release, version, clientFrame, serverFrame, window, clientTransport,
                serverTransport, List.copyOf(streams));
    }

    /**
     * The most a peer of an {@link End#EARLY} side may write: no more than the closer's window (the closer may
     * have reported a first read, which sets the sender's allowance to what it read plus the window) and no
     * more than the initial guess, so the writer never waits for an update the closed stream will not send.
     */
    static int earlyCap(int window) {
        return Math.min(window, SmuxConfig.INITIAL_PEER_WINDOW);
    }

    private static End end(SplittableRandom r, Release release) {
        while (true) {
            int x = r.nextInt(100);
            End e = x < 30 ? End.HALF : x < 60 ? End.CLOSE : x < 80 ? End.EOF_CLOSE : End.EARLY;
            if (e != End.HALF || release.halfClose) {
                return e;
            }
        }
    }

    private static List<Integer> writeSizes(SplittableRandom r) {
        List<Integer> sizes = new ArrayList<>();
        int count = r.nextInt(100) < 15 ? 0 : 1 + r.nextInt(4);
        for (int i = 0; i < count; i++) {
            sizes.add(r.nextInt(10) == 0 ? 0 : logUniform(r, 1, MAX_WRITE));
        }
        return sizes;
    }

    private static SidePlan side(SplittableRandom r, long content, List<Integer> sizes, End end, End peerEnd,
                                 long peerTotal) {
        List<Write> writes = new ArrayList<>();
        for (int size : sizes) {
            writes.add(new Write(size, r.nextInt(4) == 0 ? r.nextInt(3_000) : 0));
        }
        boolean probe = r.nextInt(10) < 4;
        long readDelay = r.nextInt(10) < 7 ? 0 : r.nextInt(20_000);
        // Small reads only where they stay quick: at most about 20,000 reads per stream.
        int readSize = r.nextInt(10) < 6 ? 0
                : logUniform(r, (int) Math.min(JavaModes.IO_BUFFER, Math.max(1, peerTotal / 20_000)), JavaModes.IO_BUFFER);
        boolean afterPeerFin = peerEnd == End.HALF && r.nextInt(10) < 3;
        return new SidePlan(content, List.copyOf(writes), end, probe, readDelay, readSize, afterPeerFin);
    }

    private static long total(List<Integer> sizes) {
        return sizes.stream().mapToLong(Integer::longValue).sum();
    }

    /** Scales every size down proportionally (keeping non-zero ones non-zero) when the total exceeds {@code budget}. */
    private static void scale(List<List<Integer>> sides, long budget) {
        long total = sides.stream().flatMap(List::stream).mapToLong(Integer::longValue).sum();
        if (total <= budget) {
            return;
        }
        for (List<Integer> sizes : sides) {
            sizes.replaceAll(s -> s == 0 ? 0 : (int) Math.max(1, s * budget / total));
        }
    }

    private static void capTotal(List<Integer> sizes, int cap) {
        long total = sizes.stream().mapToLong(Integer::longValue).sum();
        if (total > cap) {
            sizes.replaceAll(s -> (int) (s * (long) cap / total));
        }
    }

    private static int logUniform(SplittableRandom r, int min, int max) {
        double x = Math.exp(Math.log(min) + r.nextDouble() * (Math.log(max + 1.0) - Math.log(min)));
        return (int) Math.max(min, Math.min(max, Math.floor(x)));
    }

    static long contentSeed(long seed, int stream, Role side) {
        return seed * 1_000_003L + 2L * stream + (side == Role.CLIENT ? 1 : 2);
    }

    /** The Java settings of one role. */
    SmuxConfig javaConfig(Role role) {
        return SmuxConfig.builder().version(version)
                .transport(role == Role.CLIENT ? clientTransport : serverTransport)
                .maxFrameSize(role == Role.CLIENT ? clientFrame : serverFrame)
                .streamWindow(window)
                .build();
    }

    /** The Go peer's flags for one role (besides {@code -role}, {@code -plan} and the address). */
    List<String> goFlags(Role role) {
        return List.of("-version", Integer.toString(version), "-mode", "plan",
                "-frame", Integer.toString(role == Role.CLIENT ? clientFrame : serverFrame),
                "-stream-buffer", Integer.toString(window),
                "-receive-buffer", Integer.toString(Math.max(window, 4 << 20)));
    }

    /** How to run this plan again. */
    String replay() {
        return "-Dsmux.diff.replay=" + release + ":" + version + ":" + seed;
    }

    /** A one-line summary: settings and, per stream, opener and each side's bytes and end. */
    @Override
    public String toString() {
        return "plan seed " + seed + " (" + release + ", smux v" + version + "): frames client " + clientFrame + " / server "
                + serverFrame + ", window " + window + ", Java client " + clientTransport + ", Java server "
                + serverTransport + "; " + streams.stream().map(s -> "#" + s.index() + " " + s.opener().json()
                        + (s.waitFirst() ? "*" : "") + " [c " + s.client().total() + " " + s.client().end().json
                        + " | s " + s.server().total() + " " + s.server().end().json + "]")
                .collect(Collectors.joining(", "));
    }

    /** Saves the plan as the JSON the Go peer's {@code -plan} reads. */
    Path write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve("plan-" + release + "-v" + version + "-" + seed + ".json");
        StringBuilder j = new StringBuilder("{\"seed\":").append(seed).append(",\"streams\":[");
        for (StreamPlan s : streams) {
            if (s.index() > 0) {
                j.append(',');
            }
            j.append("\n{\"index\":").append(s.index()).append(",\"opener\":\"").append(s.opener().json())
                    .append("\",\"openDelayMicros\":").append(s.openDelayMicros())
                    .append(",\"waitFirst\":").append(s.waitFirst());
            appendSide(j.append(",\"client\":"), s.client());
            appendSide(j.append(",\"server\":"), s.server());
            j.append('}');
        }
        j.append("\n]}\n");
        Files.writeString(file, j, StandardCharsets.UTF_8);
        return file;
    }

    private static void appendSide(StringBuilder j, SidePlan p) {
        j.append("{\"content\":").append(p.content()).append(",\"writes\":[");
        for (int i = 0; i < p.writes().size(); i++) {
            Write w = p.writes().get(i);
            j.append(i > 0 ? "," : "").append('[').append(w.size()).append(',').append(w.pauseMicros()).append(']');
        }
        j.append("],\"end\":\"").append(p.end().json).append("\",\"probe\":").append(p.probe())
                .append(",\"readDelayMicros\":").append(p.readDelayMicros())
                .append(",\"readSize\":").append(p.readSize())
                .append(",\"afterPeerFin\":").append(p.afterPeerFin()).append('}');
    }
}
