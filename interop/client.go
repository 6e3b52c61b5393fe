package main

// The client: one TCP connection, one smux session, -streams workers that
// each open -open-close streams (at least one) in a row and drive them in the
// chosen mode; then a graceful end and a "done" summary.

import (
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xtaci/smux"
)

// runClient returns the number of failed streams. With -hold it waits for a
// line of lines before opening streams and again once the last stream ended.
func runClient(st *stopper, o *options, lines <-chan struct{}, ev *emitter, stderr io.Writer) (int, error) {
	dialer := net.Dialer{Timeout: o.connectTimeout}
	conn, err := dialer.DialContext(st.ctx, "tcp", o.connect)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	sess, err := smux.Client(conn, o.smuxConfig())
	if err != nil {
		return 0, err
	}
	defer sess.Close()
	feat := detectFeatures()
	ev.emit(startEvent{
		Event: "connected", Addr: conn.RemoteAddr().String(), Local: conn.LocalAddr().String(),
		Smux: smuxVersion(), HalfClose: feat.HalfClose, Features: feat, Version: o.version, Mode: o.mode,
	})
	if o.mode == modePlan {
		return runPlanClient(st, o, ev, conn, sess)
	}
	if o.hold {
		// The parent samples this process now, while it is idle, and again at run-over.
		ev.emit(readyEvent{Event: "ready"})
		if !awaitGoAhead(st, lines) {
			return 0, fmt.Errorf("no go-ahead on stdin: %s", orIfEmpty(st.reason, "the input ended"))
		}
	}

	// The accept loop tells us when and why the session ends; a client has
	// no use for streams the server opens. If the session dies mid-run, close
	// it at once: v1.5.16 leaves a writer waiting for a window update until
	// its next socket write fails, which can be a keepalive interval away.
	sessionErr := make(chan error, 1)
	runOver := make(chan struct{})
	go func() {
		for {
			s, err := sess.AcceptStream()
			if err != nil {
				select {
				case <-runOver:
				default:
					sess.Close()
				}
				sessionErr <- err
				return
			}
			s.Close()
		}
	}()
	var closedLocally atomic.Bool
	go func() {
		select {
		case <-st.ctx.Done():
			closedLocally.Store(true)
			sess.Close()
		case <-runOver:
		}
	}()

	iterations := o.openClose
	if iterations < 1 {
		iterations = 1
	}
	sizes := planSizes(o, o.streams*iterations)
	start := time.Now()
	var stopAt time.Time
	stop := func() bool { return false }
	if o.duration > 0 {
		stopAt = start.Add(o.duration)
		stop = func() bool { return !time.Now().Before(stopAt) }
	}

	var (
		opened, failed, peerEnded atomic.Int64
		carried                   atomic.Int64
		workers                   sync.WaitGroup
	)
	for w := 0; w < o.streams; w++ {
		w := w
		workers.Add(1)
		go func() {
			defer workers.Done()
			for it := 0; it < iterations; it++ {
				index := w*iterations + it
				r := newStreamResult(o)
				s, err := sess.OpenStream()
				if err != nil {
					failed.Add(1)
					r.err = fmt.Errorf("open: %w", err)
					ev.emit(r.event(1, index, 0, o.mode))
					return // the session is gone; the rest would fail alike
				}
				opened.Add(1)
				if o.timeout > 0 {
					_ = s.SetDeadline(time.Now().Add(o.duration + o.timeout))
				}
				plan := streamPlan{
					size:     sizes[index],
					newGen:   func() generator { return newGenerator(o.content, o.seed, index) },
					stop:     stop,
					half:     o.halfClose,
					watchFin: o.watchFin,
				}
				if o.duration > 0 {
					plan.size = -1
				}
				guard(r, func(r *streamResult) error { return driveStream(o, s, plan, r) })
				if r.err != nil {
					failed.Add(1)
					if endedByPeer(r.err) {
						peerEnded.Add(1)
					}
				}
				if o.mode == modeSource {
					carried.Add(r.in.n)
				} else {
					carried.Add(r.out.n)
				}
				ev.emit(r.event(1, index, s.ID(), o.mode))
			}
		}()
	}
	workers.Wait()
	elapsed := time.Since(start).Seconds()
	summary := func(event string) doneEvent {
		d := doneEvent{
			Event: event, Streams: int(opened.Load()), Bytes: carried.Load(),
			Seconds: elapsed, Errors: int(failed.Load()), PeerEnded: int(peerEnded.Load()),
		}
		if elapsed > 0 {
			d.MBps = float64(d.Bytes) / elapsed / 1e6
			d.Mbps = d.MBps * 8
		}
		return d
	}
	if o.hold {
		// Every stream is over and the session still stands (its goroutines and
		// threads too): the parent samples this process and its peer now.
		ev.emit(summary("run-over"))
		awaitGoAhead(st, lines)
	}
	close(runOver)

	// End gracefully: half-close TCP and let the server close its side, so no
	// byte still in flight is lost to a reset.
	var reason error
	if !closedLocally.Load() {
		if tcp, ok := conn.(*net.TCPConn); ok {
			_ = tcp.CloseWrite()
		}
		t := time.NewTimer(o.linger)
		select {
		case reason = <-sessionErr:
		case <-t.C:
			closedLocally.Store(true)
		case <-st.ctx.Done():
			closedLocally.Store(true)
		}
		t.Stop()
	}
	sess.Close()
	ev.emit(sessionClosedEvent{
		Event: "session-closed", Session: 1, Reason: errString(reason),
		Kind: classify(reason, closedLocally.Load()), Streams: int(opened.Load()),
	})

	done := summary("done")
	ev.emit(done)
	if st.ctx.Err() != nil {
		return done.Errors, fmt.Errorf("stopped: %s", st.reason)
	}
	return done.Errors, nil
}

// planSizes gives each stream index its payload size: -bytes, or with
// -random-max a reproducible draw from [0, random-max] seeded by -seed.
func planSizes(o *options, n int) []int64 {
	sizes := make([]int64, n)
	var r *rand.Rand
	if o.randomMax > 0 {
		r = rand.New(rand.NewSource(o.seed))
	}
	for i := range sizes {
		if r != nil {
			sizes[i] = r.Int63n(o.randomMax + 1)
		} else {
			sizes[i] = o.bytes
		}
	}
	return sizes
}

// endedByPeer tells whether a stream failed because the peer ended it while
// this side was still writing (a -watch-fin discard client watches for that;
// v1.5.16's Write also reports it as io.EOF when it waits for window). A server that refuses a
// stream answers its SYN with FIN, so this is how a refusal shows here.
func endedByPeer(err error) bool {
	return errors.Is(err, errPeerEnded) || errors.Is(err, io.EOF)
}

func orIfEmpty(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
