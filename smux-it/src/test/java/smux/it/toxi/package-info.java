/**
 * A real Toxiproxy (v2.12.0) for fault-injection tests, on any machine.
 *
 * <p>How a test uses it:
 * <pre>{@code
 * @ExtendWith(ToxiproxyExtension.class)
 * class SessionSurvivesLatencyTest {
 *     @Test @Timeout(60)
 *     void test(ToxiproxyBackend toxiproxy) throws Exception {
 *         try (EchoServer upstream = EchoServer.start()) {            // or any server on 127.0.0.1
 *             ProxyHandle proxy = toxiproxy.createProxy("smux", upstream.host(), upstream.port());
 *             proxy.toxics().latency("latency", ToxicDirection.DOWNSTREAM, 100);
 *             // connect the code under test to proxy.address() (or proxy.connect())
 *         }
 *     }
 * }
 * }</pre>
 *
 * <ul>
 *   <li>{@link smux.it.toxi.ToxiproxyExtension}: shares one server per JVM, deletes all proxies before and
 *       after each test, injects {@link smux.it.toxi.ToxiproxyBackend} and toxiproxy-java's
 *       {@code ToxiproxyClient}. Without JUnit: {@link smux.it.toxi.SharedToxiproxy#backend()}.</li>
 *   <li>{@link smux.it.toxi.ToxiproxyBackend#createProxy(String, String, int)}: always create proxies this
 *       way; the returned {@link smux.it.toxi.ProxyHandle} has the toxiproxy-java {@code Proxy} (toxics) and
 *       the address to connect to.</li>
 *   <li>Backend choice ({@link smux.it.toxi.BackendChoice}, logged as the first line): a container when a Docker
 *       engine answers and the image is there or can be pulled within seconds ({@code smux-it/container-setup.sh}
 *       installs Docker and builds the image from Toxiproxy's Go module, as CI does), on the host network with a
 *       local Linux engine, else through the host gateway; otherwise toxiproxy-server built with Go on first use
 *       and cached in {@code smux-it/target/toxiproxy/}. {@code -Dsmux.toxiproxy=container|local} forces a
 *       backend, {@code -Dsmux.toxiproxy.network=host|gateway} the container's network,
 *       {@code -Dsmux.toxiproxy.server=PATH} an existing binary. Neither Docker nor Go fails the run with what
 *       to install. Each test class logs the backend it ran on.</li>
 *   <li>Logs: {@code target/toxiproxy/} (Go build, server, container), {@code target/smux-it-tests.log}
 *       (Testcontainers).</li>
 * </ul>
 */
package smux.it.toxi;
