package smux.transport.socket;

import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import smux.api.SmuxConfig;
import smux.engine.runtime.CloseLinger;
import smux.engine.runtime.ForcedClose;
import smux.engine.runtime.SessionLink;

/**
 * The socket transport over a {@link SocketChannel}, in non-blocking mode with direct buffers:
 * the kernel copies straight into and out of them, where the socket's streams would copy every
 * byte once more through a temporary direct buffer. Each thread waits on its own small selector,
 * with the next timer deadline as its timeout. An application thread that just posted a write
 * may send it itself ({@link #transmitFromCaller}), which saves the hand-off to the writer thread
 * on every round trip.
 */
final class ChannelConnection extends SocketConnection {
    /** Channel reads go into a direct buffer this large: fewer reads, and more frames per engine call. */
    private static final int READ_BUFFER = 256 * 1024;

    private final SocketChannel channel;
    private final Selector readSelector;
    private final Selector writeSelector;
    /**
     * Who may write the socket. The writer thread takes it for each pull and write; an
     * application thread that just posted may take it to send at once. Whoever holds it owns
     * {@link #staging}, whose remaining bytes are pulled frames not yet written (what an
     * application thread's non-blocking write left for the writer thread).
     */
    private final AtomicBoolean writeToken = new AtomicBoolean();

    private ChannelConnection(Socket socket, SocketChannel channel, SessionLink link, SmuxConfig config,
                              Selector readSelector, Selector writeSelector) {
        super(socket, link, config, ByteBuffer.allocateDirect(config.stagingBufferSize()),
                ByteBuffer.allocateDirect(READ_BUFFER));
        this.channel = channel;
        this.readSelector = readSelector;
        this.writeSelector = writeSelector;
    }

    /** Puts the channel in non-blocking mode and registers it with a selector for each thread. */
    static ChannelConnection open(Socket socket, SocketChannel channel, SessionLink link, SmuxConfig config)
            throws IOException {
        channel.configureBlocking(false);
        Selector readable = Selector.open();
        Selector writable = null;
        try {
            writable = Selector.open();
            channel.register(readable, SelectionKey.OP_READ);
            channel.register(writable, SelectionKey.OP_WRITE);
            return new ChannelConnection(socket, channel, link, config, readable, writable);
        } catch (IOException | RuntimeException e) {
            close(readable);
            close(writable);
            throw e;
        }
    }

    /**
     * Sends on the application's thread when nobody else is writing: pulls (only if the engine is
     * free) into the staging buffer and writes what the socket takes without blocking. Whatever
     * is left (bytes the socket did not take, frames still in the engine) goes to the writer
     * thread. The committed count of a write stays exact: committing is the pull, whichever
     * thread does it.
     */
    @Override
    public void transmitFromCaller() {
        if (!writeToken.compareAndSet(false, true)) {
            transmitReady(); // someone is writing already
            return;
        }
        boolean more = true;
        try {
            if (!staging.hasRemaining()) {
                staging.clear();
                int n = link.tryPull(staging);
                staging.flip();
                if (n < 0) {
                    return; // the engine is busy (the reader feeds it): the writer thread pulls
                }
            }
            if (staging.hasRemaining()) {
                written += channel.write(staging);
            }
            more = staging.hasRemaining() || link.pullLeftWork();
        } catch (IOException e) {
            more = true; // the writer thread meets the same failure and reports it
        } finally {
            writeToken.set(false);
            if (more) {
                transmitReady();
            }
        }
    }

    @Override
    void beginWrite() {
        while (!writeToken.compareAndSet(false, true)) {
            Thread.onSpinWait(); // its holder is an application thread doing one non-blocking write
        }
    }

    @Override
    void endWrite() {
        writeToken.set(false);
    }

    /**
     * Writes all of {@code src}. While the socket is full it waits on its selector until the next
     * timer deadline and runs the timers, so a silent peer is still detected while this thread
     * waits. Only closing the connection ends a write early.
     */
    @Override
    void write(ByteBuffer src) throws IOException {
        while (true) {
            written += channel.write(src);
            if (!src.hasRemaining()) {
                return;
            }
            long wait = link.nanosUntilDeadline();
            writeSelector.select(timeoutMillis(wait));
            writeSelector.selectedKeys().clear();
            if (!channel.isOpen()) {
                throw new ClosedChannelException();
            }
            link.runTimers();
        }
    }

    @Override
    int read(ByteBuffer into) throws IOException {
        into.clear();
        while (true) {
            int n = channel.read(into);
            if (n != 0) {
                into.flip();
                return n;
            }
            long wait = link.nanosUntilDeadline();
            int ready = readSelector.select(timeoutMillis(wait));
            readSelector.selectedKeys().clear();
            if (ready == 0) {
                link.runTimers();
                if (stopping) {
                    return STOP;
                }
            }
        }
    }

    @Override
    void dropInput(CloseLinger linger) throws IOException {
        while (!linger.dropWaiting(channel, input, Integer.MAX_VALUE)) {
            readSelector.select(timeoutMillis(Math.max(1, linger.nanosLeft())));
            readSelector.selectedKeys().clear();
        }
    }

    @Override
    void shutOutputForForcedClose() {
        ForcedClose.shutOutputAndDropInput(channel);
    }

    @Override
    void wakeWaits() {
        readSelector.wakeup();
        writeSelector.wakeup();
    }

    @Override
    void releaseIo() {
        close(readSelector);
        close(writeSelector);
    }

    /** Selector timeout for a wait of {@code nanos} (negative: no timer armed, wait until woken). */
    private static long timeoutMillis(long nanos) {
        return nanos < 0 ? 0 : Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos) + 1);
    }

    private static void close(Selector selector) {
        if (selector != null) {
            try {
                selector.close();
            } catch (IOException ignored) {
                // nothing more to release
            }
        }
    }
}
