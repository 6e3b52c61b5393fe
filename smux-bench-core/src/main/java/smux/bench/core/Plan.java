package smux.bench.core;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import smux.api.SmuxConfig;

/**
 * What to run.
 *
 * @param config the session settings every case starts from (transport and stream limits are set per case)
 * @param transports the transports to measure
 * @param stagings staging buffer sizes to compare in the throughput cases (empty: the config's)
 * @param streams the stream counts of the throughput cases
 * @param seconds measured seconds per case
 * @param sections the sections to run
 * @param idleStreams streams of the heap-per-idle-stream section
 * @param sessions session pairs of the NIO section
 * @param peer a remote discard smux server, or null for loopback (then only throughput runs)
 * @param rawPeer a remote discard TCP server, or null
 */
public record Plan(SmuxConfig config, List<String> transports, List<Integer> stagings, List<Integer> streams, double seconds,
                   Set<Section> sections, int idleStreams, int sessions, InetSocketAddress peer, InetSocketAddress rawPeer) {
    /** Copies the lists, so that the plan cannot change under a run. */
    public Plan {
        transports = List.copyOf(transports);
        stagings = List.copyOf(stagings);
        streams = List.copyOf(streams);
        sections = Set.copyOf(sections);
    }

    /** @return whether the throughput runs against a remote server instead of loopback */
    boolean remote() {
        return peer != null;
    }
}
