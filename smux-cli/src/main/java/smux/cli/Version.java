package smux.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;

/**
 * The version line: the project's version and the commit it was built from, both written into
 * the jar by the build ({@code smux/cli/version.properties}, {@code build.properties}); a
 * build without git leaves the commit out, and classes run outside a build say so.
 */
final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        return new String[] {line()};
    }

    static String line() {
        String version = property("version.properties", "version");
        if (version == null || version.startsWith("${")) {
            return "smux (built outside Maven: no version recorded)";
        }
        String commit = property("build.properties", "commit");
        return "smux " + version + (commit == null || commit.isBlank() ? "" : " (commit " + commit.strip() + ")")
                + ", Java " + System.getProperty("java.version");
    }

    private static String property(String resource, String key) {
        try (InputStream in = Version.class.getResourceAsStream(resource)) {
            if (in == null) {
                return null;
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty(key);
        } catch (IOException e) {
            return null;
        }
    }
}
