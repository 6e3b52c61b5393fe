package smux.it.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import smux.api.SmuxConfig;
import smux.api.SmuxStream;
import smux.it.OwnThreads;

/**
 * A clean close must not turn into a reset that destroys its own tail. The closing side's flush
 * ends when every committed byte is in its kernel's send buffer, not at the peer; if it then
 * closed the socket while the peer still sent (window updates as it reads, or a stream the closing
 * side never reads), its kernel would answer those bytes with a reset and throw away what it had
 * not sent yet. The peer here reads the closing side's last stream slowly and keeps sending on
 * another stream: it must still read every byte, in order, and then the end of the stream.
 */
class CloseLingerTest {
    private static final int SIZE = 8 << 20;

    @ParameterizedTest(name = "{0} v{1}")
    @CsvSource({"socket, 1", "socket, 2", "nio, 1", "nio, 2"})
    @Timeout(60)
    void thePeerReadsEveryByteSentBeforeACloseWhileItKeepsSending(String transport, int version) throws Exception {
        byte[] data = Bytes.random(SIZE, 7);
        SmuxConfig.Builder config = SmuxConfig.builder().version(version).closeTimeout(Duration.ofSeconds(5));
        try (SessionPair p = SessionPair.open(transport, config)) {
            // the client keeps sending on a stream the server never reads
            SmuxStream chatter = p.client.openStream();
            CompletableFuture<Void> chattering = OwnThreads.run(() -> {
                byte[] chunk = new byte[16 * 1024];
                try (OutputStream out = chatter.outputStream()) {
                    while (true) {
                        out.write(chunk);
                    }
                } catch (IOException expected) {
                    // the server closed the session
                }
            });
            p.server.acceptStream(Duration.ofSeconds(5));

            SmuxStream bulk = p.server.openStream();
            bulk.outputStream().write(data, 0, 1);
            SmuxStream received = p.client.acceptStream(Duration.ofSeconds(5));
            CompletableFuture<String[]> read = OwnThreads.supply(() -> {
                byte[] buf = new byte[64 * 1024];
                var digest = Bytes.digest();
                long total = 0;
                try (InputStream in = received.inputStream()) {
                    int n;
                    while ((n = in.read(buf)) >= 0) {
                        digest.update(buf, 0, n);
                        total += n;
                        LockSupport.parkNanos(1_000_000); // slowly: the server's kernel holds the tail at its close
                    }
                } catch (IOException e) {
                    return new String[] {"failed after " + total + " bytes: " + e, Long.toString(total)};
                }
                return new String[] {java.util.HexFormat.of().formatHex(digest.digest()), Long.toString(total)};
            });

            bulk.outputStream().write(data, 1, data.length - 1);
            bulk.closeWrite();
            p.server.close(); // returns once every committed byte is in the kernel
            assertTrue(p.server.closeCause().isEmpty(), "the flush completed: " + p.server.closeCause());

            String[] got = read.get(30, TimeUnit.SECONDS);
            assertEquals(Long.toString(SIZE), got[1], got[0]);
            assertEquals(Bytes.sha256(data), got[0], "every byte arrived, in order");
            chattering.get(10, TimeUnit.SECONDS);
        }
    }
}
