package smux.it.toxi;

import eu.rekawek.toxiproxy.ToxiproxyClient;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 access to the {@linkplain SharedToxiproxy shared} Toxiproxy server.
 *
 * <pre>{@code
 * @ExtendWith(ToxiproxyExtension.class)
 * class SomeFaultTest {
 *     @Test @Timeout(30)
 *     void survivesLatency(ToxiproxyBackend toxiproxy) throws Exception {
 *         ProxyHandle proxy = toxiproxy.createProxy("smux", "127.0.0.1", server.port());
 *         proxy.toxics().latency("lat", ToxicDirection.DOWNSTREAM, 100);
 *         try (Socket s = proxy.connect()) { ... }
 *     }
 * }
 * }</pre>
 *
 * <ul>
 *   <li>before all tests of a class: starts the server if this JVM has none yet (so a missing Docker/Go
 *       fails the class with the reason rather than each test), and logs which backend runs the class;</li>
 *   <li>before and after each test: deletes every proxy, so each test starts from an empty server and
 *       leaves no listener, toxic or connection behind;</li>
 *   <li>resolves test and lifecycle method parameters of type {@link ToxiproxyBackend} and
 *       {@link ToxiproxyClient}.</li>
 * </ul>
 * Because proxies are wiped around every test on a server shared by the whole JVM, tests using this
 * extension must not run concurrently (JUnit's default; do not enable parallel execution for them).
 */
public final class ToxiproxyExtension implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback,
        ParameterResolver {

    @Override
    public void beforeAll(ExtensionContext context) {
        ToxiproxyBackend backend = SharedToxiproxy.backend();
        // one line per test class, so the build log shows which backend ran each class
        ToxiproxyServerBinary.log(context.getRequiredTestClass().getSimpleName() + " runs on " + backend.kind());
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        SharedToxiproxy.backend().deleteAllProxies();
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        SharedToxiproxy.backend().deleteAllProxies();
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context)
            throws ParameterResolutionException {
        Class<?> type = parameter.getParameter().getType();
        return type == ToxiproxyBackend.class || type == ToxiproxyClient.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context)
            throws ParameterResolutionException {
        ToxiproxyBackend backend = SharedToxiproxy.backend();
        return parameter.getParameter().getType() == ToxiproxyClient.class ? backend.client() : backend;
    }
}
