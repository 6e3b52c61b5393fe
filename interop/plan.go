package main

// Plan mode: the Go side of the differential tests. A plan (a JSON file the
// Java test writes from a seed, so a failing run is replayed from its seed)
// lists streams; for each, which side opens it, and for each side the writes
// it makes (sizes and pauses), how it ends the stream, and whether it then
// tries one more write that must be refused. Both roles run the same plan:
// the client its "client" halves, the server its "server" halves. Each side
// verifies every byte it reads against the peer's content, and reports each
// stream as one "plan-stream" event; the Java implementation of the same
// interpreter (smux.it.interop.PlanRunner) reports the same fields, so runs
// with a Go and with a Java peer can be compared field by field.
//
// Every plan is deterministic by construction: a side ends its stream only in
// ways whose outcome does not depend on timing (see the end* constants), so
// what each stream delivers is fixed by the plan alone, except after an
// "early" close, whose reader gets a prefix of what the peer sent.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xtaci/smux"
)

const modePlan = "plan"

// How a side ends a stream once its writes are done.
const (
	// endHalf: CloseWrite, try the probe, read to the peer's FIN, Close.
	endHalf = "half"
	// endClose: read everything the peer will send (the plan says how much),
	// Close without waiting for the peer's FIN, then try the probe.
	endClose = "close"
	// endEOFClose: read to the peer's FIN, Close, then try the probe. Never on
	// both sides of a stream: each would wait for the other's FIN.
	endEOFClose = "eofclose"
	// endEarly: Close at once, dropping whatever the peer still sends, then
	// try the probe. What this side reads is a prefix of the peer's bytes.
	endEarly = "early"
)

type planSide struct {
	// Content is the seed of this side's payload (see mixContent).
	Content int64 `json:"content"`
	// Writes are [size, pause before the write in microseconds].
	Writes          [][2]int64 `json:"writes"`
	End             string     `json:"end"`
	Probe           bool       `json:"probe"`
	ReadDelayMicros int64      `json:"readDelayMicros"`
	// ReadSize is the buffer each Read gets (0: 64 KiB); small reads make
	// the receiver report consumption (v2 UPD) in small steps.
	ReadSize int `json:"readSize"`
	// AfterPeerFin: write only once the peer's FIN has arrived (the plan
	// sets it only where the peer half-closes without waiting for us).
	AfterPeerFin bool `json:"afterPeerFin"`
}

func (s *planSide) total() int64 {
	var n int64
	for _, w := range s.Writes {
		n += w[0]
	}
	return n
}

type planStream struct {
	Index           int      `json:"index"`
	Opener          string   `json:"opener"`
	OpenDelayMicros int64    `json:"openDelayMicros"`
	WaitFirst       bool     `json:"waitFirst"`
	Client          planSide `json:"client"`
	Server          planSide `json:"server"`
}

func (p *planStream) side(role string) (mine, peer *planSide) {
	if role == "client" {
		return &p.Client, &p.Server
	}
	return &p.Server, &p.Client
}

type plan struct {
	Seed    int64        `json:"seed"`
	Streams []planStream `json:"streams"`
}

func loadPlan(path string) (*plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("plan %s: %w", path, err)
	}
	for i := range p.Streams {
		s := &p.Streams[i]
		if s.Index != i {
			return nil, fmt.Errorf("plan %s: stream %d has index %d", path, i, s.Index)
		}
		if s.Opener != "client" && s.Opener != "server" {
			return nil, fmt.Errorf("plan %s: stream %d: opener %q", path, i, s.Opener)
		}
		for _, side := range []*planSide{&s.Client, &s.Server} {
			switch side.End {
			case endHalf, endClose, endEOFClose, endEarly:
			default:
				return nil, fmt.Errorf("plan %s: stream %d: end %q", path, i, side.End)
			}
		}
	}
	return &p, nil
}

// planStreamEvent is one side of one stream as it ran. Field names match the
// Java PlanRunner's result.
type planStreamEvent struct {
	Event     string `json:"event"`
	Session   int    `json:"session"`
	Index     int    `json:"index"`
	ID        uint32 `json:"id"`
	Role      string `json:"role"`
	Opener    bool   `json:"opener"`
	BytesIn   int64  `json:"bytesIn"`
	Sha256In  string `json:"sha256In"`
	BytesOut  int64  `json:"bytesOut"`
	Sha256Out string `json:"sha256Out"`
	// ReadEnd: "eof" (the peer's FIN), "closed" (this side closed first), or
	// "error: ..." (anything else).
	ReadEnd string `json:"readEnd"`
	// Probe: "" (none), "refused" or "accepted".
	Probe string `json:"probe"`
	// Err lists every way the side departed from the plan; "" if none.
	Err string `json:"err"`
}

// mixContent is smux.it.interop.Content.mix on the Java side: byte p is byte
// (p mod 8), little end first, of splitmix64(seed + p/8). Any chunking of a
// stream gives the same bytes.
type mixContent struct{ seed uint64 }

func mix64(z uint64) uint64 {
	z += 0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

func (c mixContent) fill(pos int64, p []byte) {
	word := uint64(pos) >> 3
	shift := uint(pos & 7)
	bits := mix64(c.seed+word) >> (8 * shift)
	left := 8 - int(shift)
	for i := range p {
		if left == 0 {
			word++
			bits = mix64(c.seed + word)
			left = 8
		}
		p[i] = byte(bits)
		bits >>= 8
		left--
	}
}

// planIDs: xtaci increments before use, so the k-th stream a client opens has
// id 3+2k and the k-th a server opens 2+2k; each side opens its streams in
// plan order from one goroutine, so ids are known in advance.
func planID(opener string, k int) uint32 {
	if opener == "client" {
		return uint32(3 + 2*k)
	}
	return uint32(2 + 2*k)
}

// runPlan runs role's half of every stream on sess and emits one event per
// stream. It returns when every stream is done, or when the session fails.
func runPlan(o *options, p *plan, role string, sess *smux.Session, ev *emitter, session int) (failed int) {
	byID := map[uint32]*planStream{}
	var mine []*planStream
	theirs := 0
	for i := range p.Streams {
		s := &p.Streams[i]
		if s.Opener == role {
			mine = append(mine, s)
		} else {
			byID[planID(s.Opener, theirs)] = s
			theirs++
		}
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	report := func(e planStreamEvent) {
		e.Event = "plan-stream"
		e.Session = session
		e.Role = role
		mu.Lock()
		if e.Err != "" {
			failed++
		}
		mu.Unlock()
		ev.emit(e)
	}
	start := func(st *smux.Stream, ps *planStream, opener bool, idErr string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := runPlanSide(o, st, ps, role, opener)
			if idErr != "" {
				e.Err = joinErr(idErr, e.Err)
			}
			report(e)
		}()
	}

	wg.Add(1)
	go func() {
		defer wg.Done()
		for k, ps := range mine {
			pause(ps.OpenDelayMicros)
			st, err := sess.OpenStream()
			if err != nil {
				for _, rest := range mine[k:] {
					report(planStreamEvent{Index: rest.Index, Opener: true, Err: "open: " + err.Error()})
				}
				return
			}
			idErr := ""
			if want := planID(role, k); st.ID() != want {
				idErr = fmt.Sprintf("opened with id %d, the plan expects %d", st.ID(), want)
			}
			start(st, ps, true, idErr)
		}
	}()

	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; n < theirs; n++ {
			st, err := sess.AcceptStream()
			if err != nil {
				// Report every stream not accepted, so the Java side sees
				// the count it waits for and the reason.
				for id, ps := range byID {
					report(planStreamEvent{Index: ps.Index, ID: id, Err: "accept: " + err.Error()})
				}
				return
			}
			ps, ok := byID[st.ID()]
			if !ok {
				st.Close()
				report(planStreamEvent{Index: -1, ID: st.ID(), Err: fmt.Sprintf("accepted stream %d, which the plan does not open", st.ID())})
				n--
				continue
			}
			delete(byID, st.ID())
			start(st, ps, false, "")
		}
	}()
	wg.Wait()
	return failed
}

func pause(micros int64) {
	if micros > 0 {
		time.Sleep(time.Duration(micros) * time.Microsecond)
	}
}

func joinErr(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// planReader reads one stream to its end, checking every byte against the
// peer's content, and tells when the first byte and the whole planned count
// have arrived.
type planReader struct {
	want     mixContent
	expected int64
	in       *tally
	first    chan struct{}
	all      chan struct{}
	done     chan struct{}
	end      error // io.EOF or the error that ended reading
	mismatch string
}

func newPlanReader(peer *planSide) *planReader {
	r := &planReader{
		want: mixContent{uint64(peer.Content)}, expected: peer.total(), in: newTally(),
		first: make(chan struct{}), all: make(chan struct{}), done: make(chan struct{}),
	}
	if r.expected == 0 {
		close(r.first)
		close(r.all)
	}
	return r
}

func (r *planReader) run(st muxStream, delayMicros int64, size int) {
	defer close(r.done)
	pause(delayMicros)
	if size <= 0 {
		size = ioBufferSize
	}
	buf := make([]byte, size)
	exp := make([]byte, size)
	for {
		n, err := readSome(st, buf)
		if n > 0 {
			pos := r.in.n
			if r.mismatch == "" {
				r.want.fill(pos, exp[:n])
				for i := 0; i < n; i++ {
					if buf[i] != exp[i] {
						r.mismatch = fmt.Sprintf("byte at offset %d differs", pos+int64(i))
						break
					}
				}
				if r.mismatch == "" && pos+int64(n) > r.expected {
					r.mismatch = fmt.Sprintf("%d bytes arrived, the peer sends %d", pos+int64(n), r.expected)
				}
			}
			r.in.add(buf[:n])
			if pos == 0 && r.expected > 0 {
				close(r.first)
			}
			if pos < r.expected && r.in.n >= r.expected {
				close(r.all)
			}
		}
		if err != nil {
			r.end = err
			return
		}
	}
}

func runPlanSide(o *options, st *smux.Stream, ps *planStream, role string, opener bool) planStreamEvent {
	mine, peer := ps.side(role)
	e := planStreamEvent{Index: ps.Index, ID: st.ID(), Opener: opener}
	var problems []string
	problem := func(format string, args ...interface{}) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	if o.timeout > 0 {
		_ = st.SetDeadline(time.Now().Add(o.timeout))
	}

	r := newPlanReader(peer)
	go r.run(st, mine.ReadDelayMicros, mine.ReadSize)
	if ps.WaitFirst && !opener {
		select {
		case <-r.first:
		case <-r.done:
		}
	}
	if mine.AfterPeerFin {
		<-r.done
	}

	out := newTally()
	content := mixContent{uint64(mine.Content)}
	var buf []byte
	for i, w := range mine.Writes {
		pause(w[1])
		size := int(w[0])
		if cap(buf) < size {
			buf = make([]byte, size)
		}
		chunk := buf[:size]
		content.fill(out.n, chunk)
		n, err := st.Write(chunk)
		out.add(chunk[:n])
		if err != nil {
			problem("write %d (%d bytes) failed after %d: %v", i, size, n, err)
			break
		}
		if n != size {
			problem("write %d: %d of %d bytes", i, n, size)
			break
		}
	}

	closedLocally := false
	closeNow := func() {
		closedLocally = true
		// Not checked: after a half-close both ways v1.5.58 has already
		// reclaimed the stream and Close reports io.ErrClosedPipe.
		_ = st.Close()
	}
	probe := func() {
		if !mine.Probe {
			return
		}
		if n, err := st.Write([]byte{0x5A}); err != nil || n == 0 {
			e.Probe = "refused"
		} else {
			e.Probe = "accepted"
		}
	}
	switch mine.End {
	case endHalf:
		if hc, ok := interface{}(st).(halfCloser); ok {
			if err := hc.CloseWrite(); err != nil {
				problem("close-write: %v", err)
			}
		} else {
			problem("this xtaci/smux release has no CloseWrite")
		}
		probe()
		<-r.done
		closeNow()
	case endEOFClose:
		<-r.done
		closeNow()
		probe()
	case endClose:
		select {
		case <-r.all:
		case <-r.done:
		}
		closeNow()
		probe()
	case endEarly:
		closeNow()
		probe()
	}
	<-r.done

	e.BytesIn, e.Sha256In = r.in.n, r.in.hex()
	e.BytesOut, e.Sha256Out = out.n, out.hex()
	switch {
	case errors.Is(r.end, io.EOF):
		e.ReadEnd = "eof"
	case closedLocally && (errors.Is(r.end, io.ErrClosedPipe) || errors.Is(r.end, net.ErrClosed)):
		e.ReadEnd = "closed"
	default:
		e.ReadEnd = "error: " + errString(r.end)
	}

	if r.mismatch != "" {
		problem("read: %s", r.mismatch)
	}
	if mine.End != endEarly && r.in.n != r.expected {
		problem("read %d bytes, the peer sends %d (%s)", r.in.n, r.expected, e.ReadEnd)
	}
	if (mine.End == endHalf || mine.End == endEOFClose) && e.ReadEnd != "eof" {
		problem("reading ended with %s, not the peer's FIN", e.ReadEnd)
	}
	if mine.End != endHalf && mine.End != endEOFClose && e.ReadEnd != "eof" && e.ReadEnd != "closed" {
		problem("reading ended with %s", e.ReadEnd)
	}
	if e.Probe == "accepted" {
		problem("a write after %s was accepted", mine.End)
	}
	for _, p := range problems {
		e.Err = joinErr(e.Err, p)
	}
	return e
}

// planDigest is the SHA-256 of n bytes of content c, for tests.
func planDigest(c mixContent, n int64) string {
	h := sha256.New()
	buf := make([]byte, ioBufferSize)
	for off := int64(0); off < n; {
		k := int64(len(buf))
		if n-off < k {
			k = n - off
		}
		c.fill(off, buf[:k])
		h.Write(buf[:k])
		off += k
	}
	return hex.EncodeToString(h.Sum(nil))
}

// servePlanSession runs the server's half of the plan on one connection,
// then waits for the client to end the session.
func servePlanSession(st *stopper, o *options, ev *emitter, id int, conn net.Conn, sess *smux.Session) {
	var closedLocally atomic.Bool
	over := make(chan struct{})
	go func() {
		select {
		case <-st.ctx.Done():
			closedLocally.Store(true)
			sess.Close()
		case <-over:
		}
	}()
	failed := runPlan(o, o.plan, "server", sess, ev, id)
	ev.emit(planDoneEvent{Event: "plan-done", Session: id, Failed: failed})
	// The plan is over; the client ends the session. A stream it opens now
	// is not in the plan.
	var err error
	for {
		var s *smux.Stream
		if s, err = sess.AcceptStream(); err != nil {
			break
		}
		s.Close()
		ev.emit(planStreamEvent{Event: "plan-stream", Session: id, Index: -1, ID: s.ID(), Role: "server",
			Err: fmt.Sprintf("stream %d opened after the plan", s.ID())})
	}
	close(over)
	sess.Close()
	ev.emit(sessionClosedEvent{Event: "session-closed", Session: id, Reason: errString(err),
		Kind: classify(err, closedLocally.Load()), Streams: len(o.plan.Streams)})
}

// runPlanClient runs the client's half of the plan, then holds the session
// open until told to finish (stdin EOF or a signal): the server may still be
// finishing its halves, which a closed session would cut short. Then it ends
// gracefully, as runClient does.
func runPlanClient(st *stopper, o *options, ev *emitter, conn net.Conn, sess *smux.Session) (int, error) {
	planOver := make(chan struct{})
	var stoppedEarly atomic.Bool
	go func() {
		select {
		case <-st.ctx.Done():
			// Both may be ready (the parent ends our input as soon as it sees
			// plan-done): select picks either, so look again.
			select {
			case <-planOver:
				return
			default:
			}
			stoppedEarly.Store(true)
			sess.Close()
		case <-planOver:
		}
	}()
	failed := runPlan(o, o.plan, "client", sess, ev, 1)
	close(planOver)
	ev.emit(planDoneEvent{Event: "plan-done", Session: 1, Failed: failed})
	if stoppedEarly.Load() {
		return failed, fmt.Errorf("stopped before the plan was over: %s", st.reason)
	}
	<-st.ctx.Done()

	ended := make(chan error, 1)
	go func() {
		for {
			s, err := sess.AcceptStream()
			if err != nil {
				ended <- err
				return
			}
			s.Close()
		}
	}()
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.CloseWrite()
	}
	var reason error
	local := true
	t := time.NewTimer(o.linger)
	select {
	case reason = <-ended:
		local = false
	case <-t.C:
	}
	t.Stop()
	sess.Close()
	ev.emit(sessionClosedEvent{Event: "session-closed", Session: 1, Reason: errString(reason),
		Kind: classify(reason, local), Streams: len(o.plan.Streams)})
	return failed, nil
}

type planDoneEvent struct {
	Event   string `json:"event"`
	Session int    `json:"session"`
	Failed  int    `json:"failed"`
}
