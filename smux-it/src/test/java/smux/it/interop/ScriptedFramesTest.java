package smux.it.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import smux.api.Session;
import smux.api.Smux;
import smux.api.SmuxConfig;
import smux.it.interop.FrameRelay.Dir;
import smux.it.interop.FrameRelay.Frame;
import smux.it.interop.GoPeer.Release;

/**
 * The script of {@code shared/vectors/xtaci-smux-1.5.16/README.md} (open; "hello smux"; "world"; 70,000
 * bytes of i mod 251; close) run Go to Go (each release) and Java to Java (each transport), each through a
 * {@link FrameRelay} that records both directions, and compared frame by frame with each other and with
 * the 1.5.16 capture. Both sides use the capture's settings: no keepalive, frames of at most 32768 bytes,
 * a 65536-byte stream window; the Java peers write in 64 KiB chunks, as the Go peer does.
 *
 * <p>Must be identical in every run, per direction: the VER byte of every frame, and the sequence of SYN,
 * data and FIN frames (command, stream id, length and SHA-256 of each payload). Window updates (v2) may
 * differ only as SPEC.md section 2 allows: the receiver sends {@code UPD{consumed, window}} on its first
 * read and whenever the bytes read since the last update reach half the window, so their count and values
 * depend on how reads happen to be chunked. Each run's updates are checked against that rule instead, and
 * all runs' updates are listed in {@code target/interop/script-v<n>*.txt}.
 */
class ScriptedFramesTest {
    static final int WINDOW = 65536;
    static final int FRAME = 32768;

    /** One run's frames; {@code up} is client to server. */
    record Transcript(String name, List<Frame> up, List<Frame> down) {
        List<Frame> frames(Dir d) {
            return d == Dir.UP ? up : down;
        }
    }

    @ParameterizedTest(name = "smux v{0}, stream closed with Close")
    @ValueSource(ints = {1, 2})
    @Timeout(60)
    void javaToJavaSendsTheSameFramesAsGoToGo(int version) throws Exception {
        List<Transcript> runs = new ArrayList<>();
        runs.add(vector(version));
        for (Release r : Release.values()) {
            runs.add(goToGo(r, version, false));
        }
        for (String t : Combo.TRANSPORTS) {
            runs.add(javaToJava(t, version, false));
        }
        compare(version, "close", runs);
    }

    /** The same with a half-close (client CloseWrite, then wait for the server's FIN): Go v1.5.58 only. */
    @ParameterizedTest(name = "smux v{0}, stream half-closed")
    @ValueSource(ints = {1, 2})
    @Timeout(60)
    void halfClosedScriptGivesTheSameFramesToo(int version) throws Exception {
        List<Transcript> runs = new ArrayList<>();
        runs.add(goToGo(Release.V1_5_58, version, true));
        for (String t : Combo.TRANSPORTS) {
            runs.add(javaToJava(t, version, true));
        }
        compare(version, "half-close", runs);
    }

    // ------------------------------------------------------------------ the comparison

    private static void compare(int version, String variant, List<Transcript> runs) throws IOException {
        StringBuilder report = new StringBuilder("# script, smux v" + version + ", " + variant + "\n");
        Transcript reference = runs.get(0);
        List<String> problems = new ArrayList<>();
        for (Transcript t : runs) {
            report.append("\n## ").append(t.name()).append('\n');
            for (Dir d : Dir.values()) {
                report.append(d == Dir.UP ? "client -> server\n" : "server -> client\n");
                t.frames(d).forEach(f -> report.append("  ").append(f).append('\n'));
                for (Frame f : t.frames(d)) {
                    if (f.ver() != version) {
                        problems.add(t.name() + " " + d + ": VER " + f.ver() + " in " + f);
                    }
                }
                List<String> mine = dataSequence(t.frames(d));
                List<String> theirs = dataSequence(reference.frames(d));
                if (!mine.equals(theirs)) {
                    problems.add(t.name() + " " + d + ": SYN/PSH/FIN sequence differs from " + reference.name()
                            + "\n    " + mine + "\n    " + theirs);
                }
                checkUpdates(t, d, version, problems);
            }
        }
        report.append("\n## window updates (consumed values), per run\n");
        for (Transcript t : runs) {
            report.append(String.format("  %-36s client: %-24s server: %s%n", t.name(),
                    consumed(t.frames(Dir.UP)), consumed(t.frames(Dir.DOWN))));
        }
        boolean allSame = runs.stream().allMatch(t -> fullSequence(t.up()).equals(fullSequence(reference.up()))
                && fullSequence(t.down()).equals(fullSequence(reference.down())));
        report.append("\nall frames identical, window updates included: ").append(allSame).append('\n');
        Path out = GoPeer.workDirectory().getParent().resolve("interop")
                .resolve("script-v" + version + "-" + variant + ".txt");
        Files.createDirectories(out.getParent());
        Files.writeString(out, report, StandardCharsets.UTF_8);
        System.out.println(report);
        assertEquals(List.of(), problems, "see " + out);
    }

    /** SYN, PSH and FIN in order, with stream id, length and payload digest: what must match exactly. */
    static List<String> dataSequence(List<Frame> frames) {
        return frames.stream().filter(f -> f.cmd() == FrameRelay.SYN || f.cmd() == FrameRelay.PSH || f.cmd() == FrameRelay.FIN)
                .map(f -> f.cmdName() + " sid=" + f.sid() + " len=" + f.length()
                        + (f.cmd() == FrameRelay.PSH ? " sha256=" + f.sha256().substring(0, 16) : ""))
                .collect(Collectors.toList());
    }

    static List<String> fullSequence(List<Frame> frames) {
        return frames.stream().map(Frame::toString).collect(Collectors.toList());
    }

    static List<Long> consumed(List<Frame> frames) {
        return frames.stream().filter(f -> f.cmd() == FrameRelay.UPD).map(Frame::consumed).collect(Collectors.toList());
    }

    /**
     * The updates {@code d} sends, against the data the other direction sent: none in v1; in v2 each
     * carries the configured window, the first reports a first read, each later one at least half a window
     * more, and none reports more than was sent.
     */
    private static void checkUpdates(Transcript t, Dir d, int version, List<String> problems) {
        List<Frame> updates = t.frames(d).stream().filter(f -> f.cmd() == FrameRelay.UPD).collect(Collectors.toList());
        if (version == 1) {
            if (!updates.isEmpty()) {
                problems.add(t.name() + " " + d + ": UPD in a v1 session");
            }
            return;
        }
        long received = t.frames(d.opposite()).stream().filter(f -> f.cmd() == FrameRelay.PSH).mapToLong(Frame::length).sum();
        if (updates.isEmpty()) {
            problems.add(t.name() + " " + d + ": no window update although " + received + " bytes were read");
            return;
        }
        long previous = -1;
        for (Frame u : updates) {
            if (u.window() != WINDOW) {
                problems.add(t.name() + " " + d + ": window " + u.window() + " in " + u);
            }
            if (u.consumed() > received || u.consumed() <= 0) {
                problems.add(t.name() + " " + d + ": consumed " + u.consumed() + " of " + received + " received");
            }
            if (previous >= 0 && u.consumed() - previous < WINDOW / 2) {
                problems.add(t.name() + " " + d + ": update after only " + (u.consumed() - previous)
                        + " bytes read (half the window is " + WINDOW / 2 + ")");
            }
            previous = u.consumed();
        }
    }

    // ------------------------------------------------------------------ the runs

    /** The 1.5.16 capture (client and server both Go 1.5.16). */
    static Transcript vector(int version) throws IOException {
        return new Transcript("capture, Go 1.5.16 <-> Go 1.5.16",
                decode(resource("v" + version + ".client-to-server.bin")),
                decode(resource("v" + version + ".server-to-client.bin")));
    }

    static Transcript goToGo(Release release, int version, boolean halfClose) throws Exception {
        String[] common = {"-version", Integer.toString(version), "-mode", "script", "-no-keepalive",
                "-frame", Integer.toString(FRAME), "-stream-buffer", Integer.toString(WINDOW)};
        try (GoPeer server = GoPeer.server(release, concat(common, "-sessions", "1"));
             FrameRelay relay = FrameRelay.start(server.address(), true)) {
            String[] clientFlags = halfClose ? concat(common, "-half-close") : common;
            try (GoPeer client = GoPeer.client(release, relay.address(), clientFlags)) {
                client.awaitSuccess(Duration.ofSeconds(30));
            }
            assertEquals(0, server.awaitExit(Duration.ofSeconds(20)), server.diagnostics());
            assertEquals("", server.awaitStreams(1, 1, Duration.ofSeconds(1)).get(0).err(), server.diagnostics());
            relay.awaitRecordedConnectionEnd(Duration.ofSeconds(10));
            assertEquals(List.of(), relay.decodeProblems());
            return new Transcript("Go " + release + " <-> Go " + release, relay.frames(Dir.UP), relay.frames(Dir.DOWN));
        }
    }

    static Transcript javaToJava(String transport, int version, boolean halfClose) throws Exception {
        SmuxConfig config = SmuxConfig.builder().version(version).transport(transport).keepAliveDisabled()
                .maxFrameSize(FRAME).streamWindow(WINDOW).build();
        try (JavaServer server = JavaServer.start(config, JavaModes.scriptServer());
             FrameRelay relay = FrameRelay.start(server.address(), true)) {
            try (Session session = Smux.connect(relay.address(), config)) {
                JavaModes.Result r = JavaModes.run(session.openStream(), true, JavaModes.scriptClient(halfClose));
                assertTrue(r.ok(), r::error);
                // end the session only once the server's FIN has passed, as the Go client lingers for it
                relay.awaitFrame(Dir.DOWN, f -> f.cmd() == FrameRelay.FIN, Duration.ofSeconds(10));
            }
            JavaModes.Result s = server.awaitResults(1, Duration.ofSeconds(10)).get(0);
            assertTrue(s.ok(), s::error);
            relay.awaitRecordedConnectionEnd(Duration.ofSeconds(10));
            assertEquals(List.of(), relay.decodeProblems());
            return new Transcript("Java " + transport + " <-> Java " + transport, relay.frames(Dir.UP), relay.frames(Dir.DOWN));
        }
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = ScriptedFramesTest.class.getResourceAsStream("/vectors/xtaci-smux-1.5.16/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource vectors/xtaci-smux-1.5.16/" + name);
            }
            return in.readAllBytes();
        }
    }

    /** Decodes a whole capture into frames, as the relay does on the fly. */
    static List<Frame> decode(byte[] b) {
        List<Frame> frames = new ArrayList<>();
        int i = 0;
        while (i < b.length) {
            int ver = b[i] & 0xFF;
            int cmd = b[i + 1] & 0xFF;
            int len = (b[i + 2] & 0xFF) | (b[i + 3] & 0xFF) << 8;
            long sid = (b[i + 4] & 0xFFL) | (b[i + 5] & 0xFFL) << 8 | (b[i + 6] & 0xFFL) << 16 | (b[i + 7] & 0xFFL) << 24;
            int p = i + 8;
            String small = len <= 16 ? HexFormat.of().formatHex(b, p, p + len) : null;
            String sha = cmd == FrameRelay.PSH && len > 0 ? Content.sha256Hex(b, p, len) : null;
            long consumed = -1;
            long window = -1;
            if (cmd == FrameRelay.UPD && len == 8) {
                consumed = le32(b, p);
                window = le32(b, p + 4);
            }
            frames.add(new Frame(ver, cmd, len, sid, small, sha, consumed, window));
            i = p + len;
        }
        return frames;
    }

    private static long le32(byte[] b, int off) {
        return (b[off] & 0xFFL) | (b[off + 1] & 0xFFL) << 8 | (b[off + 2] & 0xFFL) << 16 | (b[off + 3] & 0xFFL) << 24;
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = new String[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
