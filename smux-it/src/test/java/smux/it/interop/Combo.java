package smux.it.interop;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import smux.api.SmuxConfig;
import smux.it.interop.GoPeer.Release;

/**
 * One cell of the interop matrix: the Go release, who dials whom, the smux protocol version, and the
 * Java transport. Its {@code toString} is the test's display name.
 */
record Combo(Release release, Direction direction, int protocol, String transport) {

    /** Who is the client. */
    enum Direction {
        JAVA_CLIENT, GO_CLIENT
    }

    static final List<String> TRANSPORTS = List.of("socket", "nio");

    /** All 16 cells: {v1.5.16, v1.5.58} x {Java client, Go client} x {v1, v2} x {socket, nio}. */
    static List<Combo> all() {
        List<Combo> all = new ArrayList<>();
        for (Release r : Release.values()) {
            for (Direction d : Direction.values()) {
                for (int p = 1; p <= 2; p++) {
                    for (String t : TRANSPORTS) {
                        all.add(new Combo(r, d, p, t));
                    }
                }
            }
        }
        return all;
    }

    static List<Combo> where(Predicate<Combo> filter) {
        return all().stream().filter(filter).collect(Collectors.toList());
    }

    boolean javaIsClient() {
        return direction == Direction.JAVA_CLIENT;
    }

    /** The Java configuration of this cell: protocol version and forced transport, the rest default. */
    SmuxConfig.Builder javaConfig() {
        return SmuxConfig.builder().version(protocol).transport(transport);
    }

    @Override
    public String toString() {
        String who = javaIsClient() ? "Java client -> Go " + release + " server" : "Go " + release + " client -> Java server";
        return who + ", smux v" + protocol + ", " + transport;
    }
}
