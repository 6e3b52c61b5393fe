package main

// Plan mode Go<->Go: one plan with every way of ending a stream, from both
// sides, for both protocol versions, on this binary's smux release.

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// mixGolden is the SHA-256 of the first 1000 bytes of mixContent{12345}; the
// Java Content.mix must give the same bytes (ContentTest checks this value).
const mixGolden = "2d5d14dc5cc88d8f91dbf0fd377485afb89cd851d3b7fa484a61ee38d50a427a"

func TestMixContentIsChunkingIndependent(t *testing.T) {
	c := mixContent{12345}
	whole := make([]byte, 1000)
	c.fill(0, whole)
	pieces := make([]byte, 1000)
	for off, step := 0, 1; off < len(pieces); off, step = off+step, step%13+1 {
		end := off + step
		if end > len(pieces) {
			end = len(pieces)
		}
		c.fill(int64(off), pieces[off:end])
	}
	if string(whole) != string(pieces) {
		t.Fatal("chunked fill differs from a whole fill")
	}
	if got := planDigest(c, 1000); got != mixGolden {
		t.Fatalf("digest %s, want %s", got, mixGolden)
	}
}

func writePlan(t *testing.T, p plan) string {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func side(content int64, end string, probe bool, sizes ...int64) planSide {
	s := planSide{Content: content, End: end, Probe: probe}
	for _, n := range sizes {
		s.Writes = append(s.Writes, [2]int64{n, 0})
	}
	return s
}

func testPlan(half bool) plan {
	// Without CloseWrite (v1.5.16) the half-closes become ends that need none;
	// never eofclose on both sides, which would wait for each other's FIN.
	h, h2 := endHalf, endHalf
	if !half {
		h, h2 = endEOFClose, endClose
	}
	streams := []planStream{
		{Opener: "client", Client: side(1, h, true, 100, 70000), Server: side(2, endClose, true, 300000)},
		{Opener: "server", Client: side(3, endEOFClose, false, 0, 5), Server: side(4, h2, true, 40000, 1)},
		{Opener: "client", Client: side(5, endClose, true, 1), Server: side(6, endClose, false, 200000)},
		{Opener: "server", WaitFirst: true, Client: side(7, endEarly, true, 65535), Server: side(8, endEOFClose, false, 1, 60000)},
		{Opener: "client", Client: side(9, endEarly, false), Server: side(10, endEarly, true)},
		{Opener: "server", Client: side(11, endClose, true, 3000, 90000), Server: side(12, h, false, 20000)},
	}
	// Stream 5: the client writes only after the server's FIN (where the
	// server half-closes) and reads in 7-byte steps.
	streams[5].Client.AfterPeerFin = half
	streams[5].Client.ReadSize = 7
	for i := range streams {
		streams[i].Index = i
		// v1.5.16 registers a stream it opens only after sending its SYN: a
		// peer that answers at once may have its frames dropped. Its acceptor
		// waits for the opener's first byte (stream 4's opener sends none,
		// and neither side of it waits for anything).
		if !half {
			streams[i].WaitFirst = true
		}
	}
	return plan{Seed: 1, Streams: streams}
}

func TestPlanGoToGo(t *testing.T) {
	for _, version := range []int{1, 2} {
		t.Run("v"+strconv.Itoa(version), func(t *testing.T) {
			p := testPlan(detectFeatures().HalfClose)
			path := writePlan(t, p)
			common := []string{"-version", strconv.Itoa(version), "-mode", "plan", "-plan", path,
				"-frame", "4000", "-stream-buffer", "65536", "-timeout", "20s"}
			srv := startServer(t, append(common, "-sessions", "1")...)
			o, err := parseFlags(append([]string{"-role", "client", "-connect", srv.addr}, common...), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			out := newSink()
			stop := newStopper()
			code := make(chan int, 1)
			go func() { code <- run(stop, o, nil, out, io.Discard) }()
			out.waitFor(t, "plan-done", 20*time.Second)
			srv.out.waitFor(t, "plan-done", 20*time.Second)
			stop.stop("test: plan over")
			if c := <-code; c != 0 {
				t.Fatalf("client exit %d: %v", c, out.all("plan-stream"))
			}
			if c := srv.wait(t); c != 0 {
				t.Fatalf("server exit %d", c)
			}
			client := out.all("plan-stream")
			server := srv.out.all("plan-stream")
			if len(client) != len(p.Streams) || len(server) != len(p.Streams) {
				t.Fatalf("%d client and %d server stream events for %d streams", len(client), len(server), len(p.Streams))
			}
			for _, ev := range append(client, server...) {
				if ev["err"] != "" {
					t.Errorf("%v", ev)
				}
			}
			// Exact deliveries where the plan fixes them.
			for _, ev := range client {
				ps := p.Streams[int(num(ev, "index"))]
				if ps.Client.End != endEarly && num(ev, "bytesIn") != ps.Server.total() {
					t.Errorf("client of stream %d read %d bytes", ps.Index, num(ev, "bytesIn"))
				}
				if ev["sha256Out"] != planDigest(mixContent{uint64(ps.Client.Content)}, ps.Client.total()) {
					t.Errorf("client of stream %d: digest of what it wrote", ps.Index)
				}
			}
		})
	}
}
