package smux.api;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.stream.Collectors;
import smux.api.spi.TransportProvider;

/**
 * Finds and chooses transports. Providers are loaded once; one that fails to load is set aside
 * with its error, so a broken jar never hides a working one, and the error is reported if nothing
 * else can serve.
 */
final class Transports {
    private static volatile List<Loaded> cache;

    /** A provider that loaded, or the error it failed with. */
    record Loaded(String type, TransportProvider provider, Throwable error) {
    }

    private Transports() {
    }

    static TransportProvider choose(SmuxConfig config) {
        String forced = config.transport().orElse(System.getProperty(Smux.TRANSPORT_PROPERTY));
        if (forced != null && forced.isBlank()) {
            forced = null; // -Dsmux.transport= with no value: choose automatically
        }
        return choose(forced, loaded());
    }

    static List<String> names() {
        return loaded().stream().filter(l -> l.provider != null)
                .sorted(Comparator.comparingInt((Loaded l) -> l.provider.priority()).reversed())
                .map(l -> l.provider.name()).collect(Collectors.toList());
    }

    private static List<Loaded> loaded() {
        List<Loaded> l = cache;
        if (l == null) {
            l = load(ServiceLoader.load(TransportProvider.class, Transports.class.getClassLoader()).stream()
                    .collect(Collectors.toList()));
            cache = l;
        }
        return l;
    }

    static List<Loaded> load(List<ServiceLoader.Provider<TransportProvider>> found) {
        List<Loaded> out = new ArrayList<>();
        for (ServiceLoader.Provider<TransportProvider> p : found) {
            String type = p.type().getName();
            try {
                out.add(new Loaded(type, p.get(), null));
            } catch (ServiceConfigurationError | RuntimeException | LinkageError e) {
                out.add(new Loaded(type, null, e));
            }
        }
        return List.copyOf(out);
    }

    static TransportProvider choose(String forced, List<Loaded> loaded) {
        List<String> problems = new ArrayList<>();
        TransportProvider best = null;
        for (Loaded l : loaded) {
            if (l.provider == null) {
                problems.add(l.type + " failed to load: " + l.error);
                continue;
            }
            String name = l.provider.name();
            if (forced != null && !forced.equals(name)) {
                continue;
            }
            boolean available;
            try {
                available = l.provider.isAvailable();
            } catch (RuntimeException | LinkageError e) {
                problems.add(name + " failed its availability check: " + e);
                continue;
            }
            if (!available) {
                problems.add(name + " is not available on this platform");
                continue;
            }
            if (best == null || l.provider.priority() > best.priority()) {
                best = l.provider;
            }
        }
        if (best != null) {
            return best;
        }
        String wanted = forced == null ? "no smux transport is available"
                : "the smux transport '" + forced + "' (chosen by SmuxConfig.transport or -D" + Smux.TRANSPORT_PROPERTY
                        + ") is not available";
        String found = loaded.stream().filter(l -> l.provider != null).map(l -> l.provider.name())
                .collect(Collectors.joining(", "));
        IllegalStateException e = new IllegalStateException(wanted + ": put smux-transport-socket or smux-transport-nio on the "
                + "module path or class path" + (found.isEmpty() ? "" : " (found: " + found + ")")
                + (problems.isEmpty() ? "" : "; " + String.join("; ", problems)));
        loaded.stream().filter(l -> l.error != null).forEach(l -> e.addSuppressed(l.error));
        throw e;
    }
}
