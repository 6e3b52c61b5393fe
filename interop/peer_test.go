package main

// In-process Go<->Go runs of smux-peer: a server and a client of this very
// binary's smux release talk over loopback TCP, for both protocol versions.
// Run against both releases:
//   go test ./...
//   go test -modfile=go.v1.5.16.mod ./...

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xtaci/smux"
)

// sink collects the JSON lines a run emits.
type sink struct {
	mu     sync.Mutex
	buf    []byte
	events []map[string]interface{}
	added  chan struct{}
}

func newSink() *sink { return &sink{added: make(chan struct{}, 1)} }

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.buf = append(s.buf, p...)
	for {
		i := bytes.IndexByte(s.buf, '\n')
		if i < 0 {
			break
		}
		var ev map[string]interface{}
		if err := json.Unmarshal(s.buf[:i], &ev); err != nil {
			ev = map[string]interface{}{"event": "unparsable", "line": string(s.buf[:i])}
		}
		s.events = append(s.events, ev)
		s.buf = s.buf[i+1:]
	}
	s.mu.Unlock()
	select {
	case s.added <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (s *sink) all(kind string) []map[string]interface{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]interface{}
	for _, ev := range s.events {
		if ev["event"] == kind {
			out = append(out, ev)
		}
	}
	return out
}

func (s *sink) waitFor(t *testing.T, kind string, d time.Duration) map[string]interface{} {
	t.Helper()
	deadline := time.After(d)
	for {
		if evs := s.all(kind); len(evs) > 0 {
			return evs[0]
		}
		select {
		case <-s.added:
		case <-deadline:
			t.Fatalf("no %q event within %v; got %v", kind, d, s.events)
		}
	}
}

type server struct {
	out  *sink
	errs bytes.Buffer
	stop *stopper
	code chan int
	addr string
}

// startServer runs "smux-peer -role server args..." in-process.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	o, err := parseFlags(append([]string{"-role", "server", "-listen", "127.0.0.1:0"}, args...), io.Discard)
	if err != nil {
		t.Fatalf("server flags: %v", err)
	}
	s := &server{out: newSink(), stop: newStopper(), code: make(chan int, 1)}
	go func() { s.code <- run(s.stop, o, nil, s.out, &s.errs) }()
	s.addr = s.out.waitFor(t, "listening", 5*time.Second)["addr"].(string)
	t.Cleanup(func() { s.stop.stop("test over") })
	return s
}

// wait returns the server's exit code once it has stopped by itself.
func (s *server) wait(t *testing.T) int {
	t.Helper()
	select {
	case c := <-s.code:
		return c
	case <-time.After(15 * time.Second):
		s.stop.stop("test timeout")
		t.Fatalf("server did not stop by itself; stderr: %s", s.errs.String())
		return -1
	}
}

// runClient runs "smux-peer -role client args..." in-process to completion.
func runClientArgs(t *testing.T, addr string, args ...string) (*sink, int, string) {
	t.Helper()
	o, err := parseFlags(append([]string{"-role", "client", "-connect", addr}, args...), io.Discard)
	if err != nil {
		t.Fatalf("client flags: %v", err)
	}
	out := newSink()
	var errs bytes.Buffer
	code := run(newStopper(), o, nil, out, &errs)
	return out, code, errs.String()
}

func num(ev map[string]interface{}, key string) int64 {
	f, _ := ev[key].(float64)
	return int64(f)
}

func scriptClientBytes() []byte {
	b := []byte(scriptHello)
	p := make([]byte, scriptPayloadSize)
	(&patternGen{}).Fill(p)
	return append(b, p...)
}

func sha(b []byte) string {
	d := sha256.Sum256(b)
	return hex.EncodeToString(d[:])
}

func checkStreams(t *testing.T, who string, evs []map[string]interface{}, want int) {
	t.Helper()
	if len(evs) != want {
		t.Errorf("%s: %d stream events, want %d", who, len(evs), want)
	}
	for _, ev := range evs {
		if ev["err"] != "" {
			t.Errorf("%s: stream %v failed: %v", who, ev["id"], ev["err"])
		}
	}
}

// The script of shared/vectors/xtaci-smux-1.5.16/README.md, 20 streams at once.
func TestScriptBothVersions(t *testing.T) {
	const streams = 20
	variants := []struct {
		name string
		args []string
	}{{"close", nil}, {"half-close", []string{"-half-close"}}}
	for _, version := range []string{"1", "2"} {
		for _, variant := range variants {
			version, variant := version, variant
			t.Run("v"+version+"/"+variant.name, func(t *testing.T) {
				srv := startServer(t, "-version", version, "-mode", "script", "-sessions", "1")
				args := append([]string{"-version", version, "-mode", "script", "-streams", strconv.Itoa(streams)}, variant.args...)
				cli, code, stderr := runClientArgs(t, srv.addr, args...)
				if code != 0 {
					t.Fatalf("client exit %d: %s", code, stderr)
				}
				if c := srv.wait(t); c != 0 {
					t.Fatalf("server exit %d: %s", c, srv.errs.String())
				}

				done := cli.all("done")
				if len(done) != 1 || num(done[0], "errors") != 0 || num(done[0], "streams") != streams {
					t.Fatalf("client summary: %v", done)
				}
				sent := scriptClientBytes()
				checkStreams(t, "client", cli.all("stream"), streams)
				for _, ev := range cli.all("stream") {
					if ev["sha256Out"] != sha(sent) || ev["sha256In"] != sha([]byte(scriptWorld)) {
						t.Errorf("client stream %v digests: %v", ev["id"], ev)
					}
				}
				checkStreams(t, "server", srv.out.all("stream"), streams)
				for _, ev := range srv.out.all("stream") {
					if num(ev, "bytesIn") != int64(len(sent)) || num(ev, "bytesOut") != int64(len(scriptWorld)) ||
						ev["sha256In"] != sha(sent) {
						t.Errorf("server stream %v: %v", ev["id"], ev)
					}
					if id := num(ev, "id"); id%2 != 1 {
						t.Errorf("client-opened stream has even id %d", id)
					}
				}
				closed := srv.out.all("session-closed")
				if len(closed) != 1 || closed[0]["kind"] != kindEOF {
					t.Errorf("server session end: %v", closed)
				}
				if ex := srv.out.all("exit"); len(ex) != 1 || ex[0]["reason"] != "sessions" {
					t.Errorf("server exit event: %v", ex)
				}
			})
		}
	}
}

// Every mode once per protocol version, with random sizes including 0.
func TestModes(t *testing.T) {
	for _, version := range []string{"1", "2"} {
		for _, mode := range []string{modeEcho, modeDiscard, modeSource, modeChecksum} {
			version, mode := version, mode
			t.Run(fmt.Sprintf("v%s/%s", version, mode), func(t *testing.T) {
				srvArgs := []string{"-version", version, "-mode", mode, "-sessions", "1"}
				args := []string{"-version", version, "-mode", mode, "-streams", "8", "-content", "random", "-seed", "3", "-random-max", "400000"}
				if mode == modeSource {
					// v1.5.16's OpenStream registers the stream only after its
					// SYN is out, so data written right after accept can be
					// dropped: let the client ask first.
					srvArgs = append(srvArgs, "-source-request")
					args = append(args, "-source-request")
				}
				srv := startServer(t, srvArgs...)
				cli, code, stderr := runClientArgs(t, srv.addr, args...)
				if code != 0 {
					t.Fatalf("client exit %d: %s; events %v", code, stderr, cli.all("stream"))
				}
				srv.wait(t)
				checkStreams(t, "client", cli.all("stream"), 8)
				checkStreams(t, "server", srv.out.all("stream"), 8)
				// What one side wrote is what the other read.
				byID := map[interface{}]map[string]interface{}{}
				for _, ev := range srv.out.all("stream") {
					byID[ev["id"]] = ev
				}
				for _, c := range cli.all("stream") {
					s := byID[c["id"]]
					if s == nil {
						t.Fatalf("no server event for stream %v", c["id"])
					}
					switch mode {
					case modeSource:
						if c["sha256In"] != s["sha256Out"] {
							t.Errorf("stream %v: client read %v, server wrote %v", c["id"], c["sha256In"], s["sha256Out"])
						}
					default:
						if c["sha256Out"] != s["sha256In"] {
							t.Errorf("stream %v: client wrote %v, server read %v", c["id"], c["sha256Out"], s["sha256In"])
						}
					}
				}
			})
		}
	}
}

// Source mode as the brief has it: the server writes -bytes right away.
// Only a release whose OpenStream registers the stream before sending SYN
// (not v1.5.16) is sure to receive all of it.
func TestSourceImmediate(t *testing.T) {
	if smuxVersion() == "v1.5.16" {
		t.Skip("v1.5.16 clients can drop data the server sends right after accepting; see README")
	}
	srv := startServer(t, "-version", "2", "-mode", "source", "-bytes", "100000", "-sessions", "1")
	cli, code, stderr := runClientArgs(t, srv.addr, "-version", "2", "-mode", "source", "-bytes", "100000", "-streams", "8")
	if code != 0 {
		t.Fatalf("client exit %d: %s %v", code, stderr, cli.all("stream"))
	}
	srv.wait(t)
	checkStreams(t, "client", cli.all("stream"), 8)
}

// Streams opened and closed in a row, 2 workers x 50, both protocol versions.
func TestOpenClose(t *testing.T) {
	for _, version := range []string{"1", "2"} {
		srv := startServer(t, "-version", version, "-mode", "echo", "-sessions", "1")
		cli, code, stderr := runClientArgs(t, srv.addr, "-version", version, "-mode", "echo",
			"-streams", "2", "-open-close", "50", "-bytes", "10")
		if code != 0 {
			t.Fatalf("v%s: client exit %d: %s", version, code, stderr)
		}
		srv.wait(t)
		checkStreams(t, "client v"+version, cli.all("stream"), 100)
		checkStreams(t, "server v"+version, srv.out.all("stream"), 100)
		ids := map[int64]bool{}
		for _, ev := range cli.all("stream") {
			ids[num(ev, "id")] = true
		}
		if len(ids) != 100 {
			t.Errorf("v%s: %d distinct stream ids, want 100", version, len(ids))
		}
	}
}

// A peer that is not smux ends its own session, with the connection closed,
// and the server goes on serving the next one.
func TestHostilePeer(t *testing.T) {
	srv := startServer(t, "-version", "2", "-mode", "echo", "-sessions", "2")

	conn, err := net.Dial("tcp", srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A frame of version 9 with an unknown command.
	if _, err := conn.Write([]byte{9, 0x7f, 0, 0, 1, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := conn.Read(make([]byte, 16)); err == nil {
		t.Fatalf("server answered garbage with %d bytes instead of closing", n)
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("server left the connection open after a protocol error")
	}
	ev := srv.out.waitFor(t, "session-closed", 10*time.Second)
	if ev["kind"] != kindProtocol {
		t.Errorf("session end kind %v, want %q (%v)", ev["kind"], kindProtocol, ev)
	}

	cli, code, stderr := runClientArgs(t, srv.addr, "-version", "2", "-mode", "echo", "-bytes", "1000")
	if code != 0 {
		t.Fatalf("client after a hostile peer: exit %d: %s %v", code, stderr, cli.all("stream"))
	}
	if c := srv.wait(t); c != 0 {
		t.Fatalf("server exit %d", c)
	}
}

// The server stops cleanly when told to (SIGTERM and stdin EOF both end up here).
func TestServerStop(t *testing.T) {
	srv := startServer(t, "-version", "1", "-mode", "discard")
	conn, err := net.Dial("tcp", srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	srv.out.waitFor(t, "session", 5*time.Second)
	srv.stop.stop("stdin-eof")
	if c := srv.wait(t); c != 0 {
		t.Fatalf("server exit %d", c)
	}
	if ev := srv.out.waitFor(t, "session-closed", time.Second); ev["kind"] != kindLocal {
		t.Errorf("session end %v", ev)
	}
	if ev := srv.out.waitFor(t, "exit", time.Second); ev["reason"] != "stdin-eof" {
		t.Errorf("exit %v", ev)
	}
}

// Payload generators must not depend on how the payload is chunked.
func TestGeneratorsChunkIndependent(t *testing.T) {
	for _, content := range []string{"pattern", "random"} {
		whole := make([]byte, 100000)
		newGenerator(content, 5, 2).Fill(whole)
		g := newGenerator(content, 5, 2)
		var pieces []byte
		for _, n := range []int{1, 250, 251, 252, 4096, 65536, 100000} {
			if len(pieces)+n > len(whole) {
				n = len(whole) - len(pieces)
			}
			p := make([]byte, n)
			g.Fill(p)
			pieces = append(pieces, p...)
		}
		if !bytes.Equal(whole, pieces) {
			t.Errorf("%s: chunked output differs", content)
		}
	}
	p := make([]byte, 600)
	(&patternGen{}).Fill(p)
	for i, b := range p {
		if int(b) != i%251 {
			t.Fatalf("pattern byte %d = %d", i, b)
		}
	}
	a, b := make([]byte, 64), make([]byte, 64)
	newGenerator("random", 5, 1).Fill(a)
	newGenerator("random", 5, 2).Fill(b)
	if bytes.Equal(a, b) {
		t.Error("random content must differ between streams")
	}
}

func TestFeatureReport(t *testing.T) {
	v := smuxVersion()
	f := detectFeatures()
	t.Logf("smux %s, features %+v", v, f)
	if v == "v1.5.16" && (f.HalfClose || f.CloseChan) {
		t.Errorf("v1.5.16 has no CloseWrite/CloseChan, got %+v", f)
	}
	if v == "v1.5.58" && !(f.HalfClose && f.CloseChan) {
		t.Errorf("v1.5.58 has CloseWrite and CloseChan, got %+v", f)
	}
}

// A -hold client opens no stream before its first stdin line, reports
// run-over with the session still standing, and ends the session only after a
// second line: the parent can sample the process at both edges of the run.
func TestHoldPacesTheRun(t *testing.T) {
	srv := startServer(t, "-version", "2", "-mode", "discard", "-no-hash", "-sessions", "1")
	o, err := parseFlags([]string{"-role", "client", "-connect", srv.addr, "-version", "2", "-mode", "discard",
		"-no-hash", "-streams", "3", "-bytes", "300000", "-hold"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	input, feed := io.Pipe()
	defer feed.Close()
	st := newStopper()
	out := newSink()
	var errs bytes.Buffer
	code := make(chan int, 1)
	go func() { code <- run(st, o, watchInput(input, st, true), out, &errs) }()
	defer st.stop("test over")

	out.waitFor(t, "ready", 5*time.Second)
	srv.out.waitFor(t, "session", 5*time.Second)
	time.Sleep(100 * time.Millisecond) // a client that did not hold would be writing by now
	if n := len(out.all("stream")) + len(srv.out.all("stream")); n != 0 {
		t.Fatalf("%d stream events before the go-ahead", n)
	}

	if _, err := feed.Write([]byte("go\n")); err != nil {
		t.Fatal(err)
	}
	over := out.waitFor(t, "run-over", 10*time.Second)
	if num(over, "streams") != 3 || num(over, "bytes") != 900000 || num(over, "errors") != 0 || num(over, "peerEnded") != 0 {
		t.Fatalf("run-over: %v", over)
	}
	for len(srv.out.all("stream")) < 3 {
		srv.out.waitFor(t, "stream", 5*time.Second)
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // a client that did not hold would have closed its session by now
	if len(out.all("done")) != 0 || len(srv.out.all("session-closed")) != 0 {
		t.Fatalf("the session ended before the second line: client %v, server %v", out.all("done"), srv.out.all("session-closed"))
	}

	if _, err := feed.Write([]byte("end\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("client exit %d: %s", c, errs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("client did not end after the second line")
	}
	if done := out.all("done"); len(done) != 1 || num(done[0], "bytes") != 900000 {
		t.Fatalf("done: %v", done)
	}
	if c := srv.wait(t); c != 0 {
		t.Fatalf("server exit %d", c)
	}
}

// A -hold client whose input ends before the go-ahead opens nothing and fails.
func TestHoldWithoutGoAhead(t *testing.T) {
	srv := startServer(t, "-version", "2", "-mode", "discard", "-sessions", "1")
	o, err := parseFlags([]string{"-role", "client", "-connect", srv.addr, "-mode", "discard", "-hold"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	st := newStopper()
	out := newSink()
	var errs bytes.Buffer
	if c := run(st, o, watchInput(bytes.NewReader(nil), st, false), out, &errs); c != 1 {
		t.Fatalf("exit %d, want 1", c)
	}
	if n := len(out.all("stream")); n != 0 {
		t.Fatalf("%d streams opened without a go-ahead", n)
	}
	if !strings.Contains(errs.String(), "go-ahead") {
		t.Errorf("stderr does not say why: %q", errs.String())
	}
	if _, err := parseFlags([]string{"-role", "server", "-hold"}, io.Discard); err == nil {
		t.Error("-hold accepted on a server")
	}
}

// A server that refuses every stream (ends it with FIN at once, as a server at
// its stream limit does): every stream of a client that writes more than the
// initial window guess fails, and done counts them as ended by the peer.
func TestRefusedStreamsAreCounted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		cfg := smux.DefaultConfig()
		cfg.Version = 2
		sess, err := smux.Server(conn, cfg)
		if err != nil {
			return
		}
		defer sess.Close()
		for {
			s, err := sess.AcceptStream()
			if err != nil {
				return
			}
			// One byte first: v1.5.16 registers a stream only after sending its
			// SYN and drops a FIN that overtakes that (README), so its writer
			// would wait out its deadline instead.
			go func() {
				_, _ = io.ReadFull(s, make([]byte, 1))
				s.Close()
			}()
		}
	}()
	cli, code, stderr := runClientArgs(t, ln.Addr().String(), "-version", "2", "-mode", "discard", "-no-hash",
		"-streams", "4", "-bytes", "1048576", "-half-close", "-watch-fin", "-linger", "1s")
	if code != 1 {
		t.Fatalf("client exit %d, want 1 (streams failed): %s", code, stderr)
	}
	done := cli.all("done")
	if len(done) != 1 || num(done[0], "errors") != 4 || num(done[0], "peerEnded") != 4 {
		t.Fatalf("done: %v; streams %v", done, cli.all("stream"))
	}
	for _, ev := range cli.all("stream") {
		if !strings.Contains(ev["err"].(string), errPeerEnded.Error()) {
			t.Errorf("stream %v: err %q", ev["id"], ev["err"])
		}
	}
}
