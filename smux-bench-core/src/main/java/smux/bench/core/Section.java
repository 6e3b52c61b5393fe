package smux.bench.core;

/** The parts of a run, in the order a run takes them. */
public enum Section {
    THROUGHPUT, RTT, IDLE, SESSIONS;

    /**
     * @param name a section name, any case
     * @return the section
     * @throws IllegalArgumentException if there is no such section
     */
    public static Section parse(String name) {
        for (Section s : values()) {
            if (s.name().equalsIgnoreCase(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("no section '" + name + "' (throughput, rtt, idle, sessions)");
    }
}
