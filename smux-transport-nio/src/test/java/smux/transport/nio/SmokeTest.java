package smux.transport.nio;

import static org.junit.jupiter.api.Assertions.*;

import java.io.*;
import java.net.*;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.*;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import smux.api.*;

class SmokeTest {
    @Test
    @Timeout(30)
    void echo() throws Exception {
        NioTransportProvider p = new NioTransportProvider();
        try (java.nio.channels.ServerSocketChannel ssc = java.nio.channels.ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)); ServerSocket ss = ssc.socket()) {
            ExecutorService ex = Executors.newCachedThreadPool();
            Future<Session> srv = ex.submit(() -> p.open(ss.accept().getChannel(), false, SmuxConfig.defaults()));
            java.nio.channels.SocketChannel c = java.nio.channels.SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), ss.getLocalPort()));
            Session client = p.open(c, true, SmuxConfig.defaults());
            Session server = srv.get();
            SmuxStream s = client.openStream();
            byte[] data = new byte[10_000_000];
            new java.util.Random(1).nextBytes(data);
            Future<byte[]> got = ex.submit(() -> {
                SmuxStream a = server.acceptStream();
                return a.inputStream().readAllBytes();
            });
            s.outputStream().write(data);
            s.closeWrite();
            assertArrayEquals(data, got.get());
            client.close();
            server.close();
            ex.shutdown();
        }
    }
}
