// Command smux-peer is the Go side of the smux-for-Java interoperability
// tests: a server or client built on github.com/xtaci/smux that runs one of a
// few scripted traffic patterns per stream and reports every stream and
// session as a JSON line on stdout. See README.md for flags and the output
// contract.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/xtaci/smux"
)

const (
	modeEcho     = "echo"
	modeDiscard  = "discard"
	modeSource   = "source"
	modeChecksum = "checksum"
	modeScript   = "script"
)

type options struct {
	role    string
	listen  string
	connect string

	version       int
	frame         int
	streamBuffer  int
	receiveBuffer int
	kaInterval    time.Duration
	kaTimeout     time.Duration
	noKeepalive   bool

	mode      string
	streams   int
	bytes     int64
	randomMax int64
	seed      int64
	content   string
	duration  time.Duration
	openClose int
	halfClose bool
	writeSize int
	readDelay time.Duration
	noHash    bool
	request   bool
	planPath  string
	plan      *plan

	timeout        time.Duration
	connectTimeout time.Duration
	linger         time.Duration
	sessions       int
	exitOnStdinEOF bool
	hold           bool
	watchFin       bool
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	def := smux.DefaultConfig()
	o := &options{}
	fs := flag.NewFlagSet("smux-peer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.role, "role", "server", "server or client")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "server: host:port to listen on (port 0: any free port, printed in the listening event)")
	fs.StringVar(&o.connect, "connect", "", "client: host:port to connect to")

	fs.IntVar(&o.version, "version", 2, "smux protocol version, 1 or 2")
	fs.IntVar(&o.frame, "frame", def.MaxFrameSize, "MaxFrameSize: largest data frame this side sends (<= 65535)")
	fs.IntVar(&o.streamBuffer, "stream-buffer", def.MaxStreamBuffer, "MaxStreamBuffer: per-stream window advertised in v2 UPD frames")
	fs.IntVar(&o.receiveBuffer, "receive-buffer", def.MaxReceiveBuffer, "MaxReceiveBuffer: session-wide receive budget (must be >= -stream-buffer)")
	fs.DurationVar(&o.kaInterval, "keepalive-interval", def.KeepAliveInterval, "send a NOP this often")
	fs.DurationVar(&o.kaTimeout, "keepalive-timeout", def.KeepAliveTimeout, "close the session when nothing arrived for this long")
	fs.BoolVar(&o.noKeepalive, "no-keepalive", false, "disable keepalive (no NOPs, no timeout)")

	fs.StringVar(&o.planPath, "plan", "", "plan mode: the JSON plan both roles run (written by the Java differential tests)")
	fs.StringVar(&o.mode, "mode", modeEcho, "echo|discard|source|checksum|script|plan: what the server does with each stream; a client in mode M drives a server in mode M")
	fs.IntVar(&o.streams, "streams", 1, "client: concurrent streams")
	fs.Int64Var(&o.bytes, "bytes", 1<<20, "client: payload bytes per stream; server: bytes per stream in source mode")
	fs.Int64Var(&o.randomMax, "random-max", 0, "client: if > 0, each stream's size is drawn uniformly from [0, N] using -seed")
	fs.Int64Var(&o.seed, "seed", 1, "client: seed for -random-max sizes and -content random")
	fs.StringVar(&o.content, "content", "pattern", "client payload: pattern (byte i = i mod 251) or random (per-stream PRNG from -seed)")
	fs.DurationVar(&o.duration, "duration", 0, "client, echo/discard: write for this long instead of -bytes (throughput runs)")
	fs.IntVar(&o.openClose, "open-close", 0, "client: each of -streams workers opens, runs and closes a stream N times in a row")
	fs.BoolVar(&o.halfClose, "half-close", false, "client: end writing with Stream.CloseWrite and read the peer's FIN, when the smux release has it")
	fs.IntVar(&o.writeSize, "write-size", 64*1024, "bytes per Stream.Write call")
	fs.DurationVar(&o.readDelay, "read-delay", 0, "server, discard mode: wait this long after accepting a stream before reading it (a reader that pauses)")
	fs.BoolVar(&o.request, "source-request", false, "source mode, both sides: the client first sends the byte count it wants (8-byte big-endian) and the server sends that many instead of -bytes; needed with v1.5.16 clients, which drop data a server writes right after accepting")
	fs.BoolVar(&o.noHash, "no-hash", false, "count bytes but skip SHA-256 (sha256In/sha256Out are \"\"; checksum mode still hashes): for throughput runs")

	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "deadline for each stream (client: plus -duration); 0 = none")
	fs.DurationVar(&o.connectTimeout, "connect-timeout", 10*time.Second, "client: TCP connect timeout")
	fs.DurationVar(&o.linger, "linger", 5*time.Second, "how long a session waits for the peer (client) or its streams (server) to finish before closing")
	fs.IntVar(&o.sessions, "sessions", 0, "server: exit after this many sessions have ended (0 = serve until signalled)")
	fs.BoolVar(&o.exitOnStdinEOF, "exit-on-stdin-eof", false, "exit when stdin reaches EOF (so the peer dies with a parent that dies)")
	fs.BoolVar(&o.watchFin, "watch-fin", false, "client, discard mode: read each stream while writing it and fail it (counted in peerEnded) if the server ends it before the last write returned: how a refused stream shows")
	fs.BoolVar(&o.hold, "hold", false, "client: emit ready and wait for a line on stdin before opening streams; after the last stream, emit run-over and wait for another line before ending the session (a parent samples the process at both edges of the run)")

	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return o, o.validate()
}

func (o *options) validate() error {
	switch o.role {
	case "server":
	case "client":
		if o.connect == "" {
			return errors.New("-role client needs -connect host:port")
		}
	default:
		return fmt.Errorf("-role must be server or client, not %q", o.role)
	}
	switch o.mode {
	case modeEcho, modeDiscard, modeSource, modeChecksum, modeScript:
	case modePlan:
		if o.planPath == "" {
			return errors.New("-mode plan needs -plan file")
		}
		p, err := loadPlan(o.planPath)
		if err != nil {
			return err
		}
		o.plan = p
	default:
		return fmt.Errorf("unknown -mode %q", o.mode)
	}
	if o.content != "pattern" && o.content != "random" {
		return fmt.Errorf("-content must be pattern or random, not %q", o.content)
	}
	if o.streams < 1 {
		return errors.New("-streams must be at least 1")
	}
	if o.openClose < 0 || o.bytes < 0 || o.randomMax < 0 || o.duration < 0 {
		return errors.New("-open-close, -bytes, -random-max and -duration must not be negative")
	}
	if o.writeSize < 1 {
		return errors.New("-write-size must be positive")
	}
	if o.duration > 0 && o.mode != modeEcho && o.mode != modeDiscard {
		return errors.New("-duration works with -mode echo or discard only")
	}
	if o.readDelay < 0 || (o.readDelay > 0 && (o.role != "server" || o.mode != modeDiscard)) {
		return errors.New("-read-delay works with -role server -mode discard only, and must not be negative")
	}
	if o.watchFin && (o.role != "client" || o.mode != modeDiscard) {
		return errors.New("-watch-fin works with -role client -mode discard only")
	}
	if o.hold && (o.role != "client" || o.mode == modePlan) {
		return errors.New("-hold works with -role client only, in any mode but plan")
	}
	return smux.VerifyConfig(o.smuxConfig())
}

func (o *options) smuxConfig() *smux.Config {
	c := smux.DefaultConfig()
	c.Version = o.version
	c.MaxFrameSize = o.frame
	c.MaxStreamBuffer = o.streamBuffer
	c.MaxReceiveBuffer = o.receiveBuffer
	c.KeepAliveInterval = o.kaInterval
	c.KeepAliveTimeout = o.kaTimeout
	c.KeepAliveDisabled = o.noKeepalive
	return c
}

// stopper is a cancellable context that remembers why it was cancelled.
type stopper struct {
	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once
	reason string
}

func newStopper() *stopper {
	ctx, cancel := context.WithCancel(context.Background())
	return &stopper{ctx: ctx, cancel: cancel}
}

func (s *stopper) stop(reason string) {
	s.once.Do(func() {
		s.reason = reason
		s.cancel()
	})
}

// watchInput reads the parent's stdin: each line is a go-ahead for a -hold
// client, sent on the returned channel, which is closed when the input ends.
// With exitOnEOF the end of input also stops the program: a Java parent that
// dies closes our stdin, and nothing else tells us.
func watchInput(r io.Reader, st *stopper, exitOnEOF bool) <-chan struct{} {
	lines := make(chan struct{}, 16)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lines <- struct{}{}
		}
		close(lines)
		if exitOnEOF {
			st.stop("stdin-eof")
		}
	}()
	return lines
}

// awaitGoAhead waits for the parent's next line on stdin; false if the input
// ended (or there is none) or the program was stopped first.
func awaitGoAhead(st *stopper, lines <-chan struct{}) bool {
	if lines == nil {
		return false
	}
	select {
	case _, ok := <-lines:
		return ok
	case <-st.ctx.Done():
		return false
	}
}

// run executes one server or client and returns the process exit code.
// lines carries the go-ahead lines of stdin (watchInput) for a -hold client;
// nil when nothing reads stdin.
func run(st *stopper, o *options, lines <-chan struct{}, stdout, stderr io.Writer) int {
	ev := newEmitter(stdout)
	if o.role == "server" {
		reason, err := runServer(st, o, ev, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "smux-peer: %v\n", err)
			return 1
		}
		ev.emit(exitEvent{Event: "exit", Reason: reason})
		return 0
	}
	errs, err := runClient(st, o, lines, ev, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "smux-peer: %v\n", err)
		return 1
	}
	if errs > 0 {
		fmt.Fprintf(stderr, "smux-peer: %d stream(s) failed\n", errs)
		return 1
	}
	return 0
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "smux-peer: %v\n", err)
		os.Exit(1)
	}
	st := newStopper()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		sig := <-sigs
		st.stop("signal " + sig.String())
	}()
	var lines <-chan struct{}
	if o.exitOnStdinEOF || o.hold {
		lines = watchInput(os.Stdin, st, o.exitOnStdinEOF)
	}
	os.Exit(run(st, o, lines, os.Stdout, os.Stderr))
}
