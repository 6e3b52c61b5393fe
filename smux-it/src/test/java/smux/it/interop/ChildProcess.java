package smux.it.interop;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * A child process that reports in JSON lines on stdout (one {@link Event} each) and writes free text on
 * stderr: the Go peer ({@link GoPeer}) and the bench's child JVMs ({@link InteropThroughputBench}).
 *
 * <p>Its stdin is a pipe this JVM holds: closing it ({@link #endInput}) is how a peer run with
 * {@code -exit-on-stdin-eof} learns to stop, and a JVM that dies closes it too. Reader threads parse every
 * stdout line and keep the last stderr lines; callers wait for events or stderr lines with timeouts (no
 * polling). {@link #close()} destroys the process (SIGTERM, then SIGKILL after a grace period).
 */
final class ChildProcess implements AutoCloseable {
    private static final int STDERR_LINES_KEPT = 200;

    private final String label;
    private final List<String> command;
    private final Process process;
    private final List<Event> events = new ArrayList<>();
    private final Deque<String> stderrTail = new ArrayDeque<>();
    private boolean stdoutEnded;
    private boolean stderrEnded;

    /**
     * Starts {@code command}.
     *
     * @param label who it is, for failure messages ("Go client v1.5.58")
     */
    ChildProcess(String label, List<String> command) throws IOException {
        this.label = label;
        this.command = List.copyOf(command);
        this.process = new ProcessBuilder(command).start();
        daemon("child-stdout-" + process.pid(), this::pumpStdout);
        daemon("child-stderr-" + process.pid(), this::pumpStderr);
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** A snapshot of every event so far. */
    synchronized List<Event> events() {
        return List.copyOf(events);
    }

    /** The events matching {@code filter} so far. */
    synchronized List<Event> events(Predicate<Event> filter) {
        return events.stream().filter(filter).collect(Collectors.toList());
    }

    /** The first event matching {@code filter}, if it arrived already. */
    synchronized Optional<Event> find(Predicate<Event> filter) {
        return events.stream().filter(filter).findFirst();
    }

    /** Waits for the first event matching {@code filter}; fails with the process's output if none comes in time. */
    Event awaitEvent(Predicate<Event> filter, Duration timeout, String what) {
        awaitCount(filter, 1, timeout, what);
        return find(filter).orElseThrow();
    }

    /** Waits until {@code count} events match {@code filter}; fails with the process's output if they do not come in time. */
    synchronized void awaitCount(Predicate<Event> filter, int count, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long have = events.stream().filter(filter).count();
            if (have >= count) {
                return;
            }
            long left = deadline - System.nanoTime();
            if (stdoutEnded || left <= 0) {
                throw new AssertionError(label + ": no " + what + " (got " + have + ")"
                        + (stdoutEnded ? " before it exited" : " within " + timeout.toMillis() + " ms") + diagnostics());
            }
            waitUpTo(left);
        }
    }

    /** Waits for a stderr line matching {@code filter} (among the last lines kept) and returns it. */
    synchronized String awaitStderr(Predicate<String> filter, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<String> line = stderrTail.stream().filter(filter).findFirst();
            if (line.isPresent()) {
                return line.get();
            }
            long left = deadline - System.nanoTime();
            if (stderrEnded || left <= 0) {
                throw new AssertionError(label + ": no " + what + (stderrEnded ? " before it exited" : " within " + timeout.toMillis() + " ms")
                        + diagnostics());
            }
            waitUpTo(left);
        }
    }

    private void waitUpTo(long nanos) {
        try {
            TimeUnit.NANOSECONDS.timedWait(this, nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + label, e);
        }
    }

    /** Writes one line to the process's stdin (a go-ahead for a held client). */
    void sendLine(String line) {
        try {
            OutputStream in = process.getOutputStream();
            in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            in.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(label + " does not read its input any more" + diagnostics(), e);
        }
    }

    /** Closes the process's stdin: with {@code -exit-on-stdin-eof} that stops it. */
    void endInput() {
        try {
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // the process is gone already: it has no input to end
        }
    }

    /** Waits for the process to exit by itself and returns its exit code. */
    int awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError(label + " did not exit within " + timeout.toMillis() + " ms" + diagnostics());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + label + " to exit", e);
        }
        awaitStdoutEnd(Duration.ofSeconds(5));
        return process.exitValue();
    }

    /** Sends a signal ({@code STOP}, {@code CONT}, {@code TERM}) with kill(1). */
    void signal(String name) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).redirectErrorStream(true).start();
            String out = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new AssertionError("kill -" + name + " " + process.pid() + " failed: " + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run kill -" + name, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while signalling " + label, e);
        }
    }

    /** What the process said, for assertion messages: the command, its last events and stderr lines. */
    synchronized String diagnostics() {
        StringBuilder sb = new StringBuilder();
        sb.append("\n  command: ").append(String.join(" ", command));
        sb.append("\n  alive: ").append(process.isAlive());
        if (!process.isAlive()) {
            sb.append(", exit ").append(process.exitValue());
        }
        List<Event> shown = events.stream().filter(e -> !e.name().equals("stream") || !e.str("err").isEmpty())
                .collect(Collectors.toList());
        int from = Math.max(0, shown.size() - 10);
        sb.append("\n  events (").append(events.size()).append(" in all; not counting successful streams, last ")
                .append(shown.size() - from).append("):");
        for (Event e : shown.subList(from, shown.size())) {
            sb.append("\n    ").append(e.fields());
        }
        if (!stderrTail.isEmpty()) {
            sb.append("\n  stderr:");
            int skip = Math.max(0, stderrTail.size() - 60);
            stderrTail.stream().skip(skip).forEach(line -> sb.append("\n    ").append(line));
        }
        return sb.toString();
    }

    /** Ends the input, destroys the process and waits for it to go. */
    @Override
    public void close() {
        endInput();
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        awaitStdoutEnd(Duration.ofSeconds(2));
    }

    private synchronized void awaitStdoutEnd(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!stdoutEnded) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            try {
                TimeUnit.NANOSECONDS.timedWait(this, left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void pumpStdout() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                Event e;
                try {
                    e = new Event(Json.parseObject(line));
                } catch (IllegalArgumentException bad) {
                    e = new Event(Map.of("event", "unparsable", "line", line));
                }
                synchronized (this) {
                    events.add(e);
                    notifyAll();
                }
            }
        } catch (IOException ignored) {
            // the process went away
        } finally {
            synchronized (this) {
                stdoutEnded = true;
                notifyAll();
            }
        }
    }

    private void pumpStderr() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                synchronized (this) {
                    stderrTail.addLast(line);
                    if (stderrTail.size() > STDERR_LINES_KEPT) {
                        stderrTail.removeFirst();
                    }
                    notifyAll();
                }
            }
        } catch (IOException ignored) {
            // the process went away
        } finally {
            synchronized (this) {
                stderrEnded = true;
                notifyAll();
            }
        }
    }

    private static void daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
    }
}
