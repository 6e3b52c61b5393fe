package smux.it.toxi;

import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.model.ToxicList;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * A proxy made by {@link ToxiproxyBackend#createProxy}: the toxiproxy-java {@link Proxy} to put toxics on,
 * and the address a test connects to in order to go through it (which, for a container behind the host
 * gateway, is a mapped port on the Docker host, not the port Toxiproxy listens on inside the container).
 *
 * @param proxy the toxiproxy-java handle (toxics, enable/disable, delete)
 * @param address where a client in this JVM connects to reach the upstream through the proxy
 */
public record ProxyHandle(Proxy proxy, InetSocketAddress address) {

    /** The proxy's name on the server. */
    public String name() {
        return proxy.getName();
    }

    /** The proxy's toxics: {@code toxics().latency("lat", ToxicDirection.DOWNSTREAM, 100)} and the like. */
    public ToxicList toxics() {
        return proxy.toxics();
    }

    /** Host to connect to; see {@link #address()}. */
    public String host() {
        return address.getHostString();
    }

    /** Port to connect to; see {@link #address()}. */
    public int port() {
        return address.getPort();
    }

    /** Opens a new TCP connection through the proxy. */
    public Socket connect() throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(address, 10_000);
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }
}
