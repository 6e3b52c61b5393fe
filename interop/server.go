package main

// The server: accepts TCP connections until told to stop, runs one smux
// session per connection and one handler per accepted stream. Whatever a peer
// sends, the worst outcome is that its own session ends with a
// "session-closed" line; the listener keeps serving.

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xtaci/smux"
)

// runServer returns why it stopped ("signal ...", "stdin-eof", "sessions").
func runServer(st *stopper, o *options, ev *emitter, stderr io.Writer) (string, error) {
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return "", err
	}
	defer ln.Close()
	feat := detectFeatures()
	ev.emit(startEvent{
		Event: "listening", Addr: ln.Addr().String(), Smux: smuxVersion(),
		HalfClose: feat.HalfClose, Features: feat, Version: o.version, Mode: o.mode,
	})

	go func() {
		<-st.ctx.Done()
		ln.Close()
	}()

	var sessions sync.WaitGroup
	accepted := 0
	reason := ""
	for reason == "" {
		conn, err := ln.Accept()
		if err != nil {
			if st.ctx.Err() != nil {
				reason = st.reason
				break
			}
			if errors.Is(err, net.ErrClosed) {
				return "", err
			}
			// Transient (out of file descriptors, aborted handshake): keep serving.
			fmt.Fprintf(stderr, "smux-peer: accept: %v\n", err)
			select {
			case <-time.After(50 * time.Millisecond):
			case <-st.ctx.Done():
			}
			continue
		}
		accepted++
		id := accepted
		sessions.Add(1)
		go func() {
			defer sessions.Done()
			serveSession(st, o, ev, id, conn)
		}()
		if o.sessions > 0 && accepted >= o.sessions {
			ln.Close()
			reason = "sessions"
		}
	}
	sessions.Wait()
	if reason == "sessions" && st.ctx.Err() != nil {
		reason = st.reason
	}
	return reason, nil
}

func serveSession(st *stopper, o *options, ev *emitter, id int, conn net.Conn) {
	defer conn.Close()
	ev.emit(sessionEvent{Event: "session", Session: id, Remote: conn.RemoteAddr().String(), Local: conn.LocalAddr().String()})
	sess, err := smux.Server(conn, o.smuxConfig())
	if err != nil {
		ev.emit(sessionClosedEvent{Event: "session-closed", Session: id, Reason: err.Error(), Kind: kindIO})
		return
	}

	var closedLocally atomic.Bool
	sessionOver := make(chan struct{})
	go func() {
		select {
		case <-st.ctx.Done():
			closedLocally.Store(true)
			sess.Close()
		case <-sessionOver:
		}
	}()

	if o.mode == modePlan {
		servePlanSession(st, o, ev, id, conn, sess)
		return
	}

	var handlers sync.WaitGroup
	count := 0
	var acceptErr error
	for {
		s, err := sess.AcceptStream()
		if err != nil && classify(err, false) == kindEOF {
			s = acceptQueued(sess)
		}
		if s == nil {
			acceptErr = err
			break
		}
		index := count
		count++
		handlers.Add(1)
		go func() {
			defer handlers.Done()
			r := newStreamResult(o)
			guard(r, func(r *streamResult) error { return serveStream(o, s, r) })
			ev.emit(r.event(id, index, s.ID(), o.mode))
		}()
	}
	close(sessionOver)

	// A peer may end the connection right behind its last FINs: after a clean
	// EOF let those streams drain what is buffered before the session is torn
	// down. After a protocol or socket error there is nothing worth waiting for.
	if !closedLocally.Load() && classify(acceptErr, false) == kindEOF {
		waitFor(&handlers, o.linger)
	}
	// xtaci/smux leaves the connection open after a protocol error; close it.
	sess.Close()
	waitFor(&handlers, 2*time.Second)
	ev.emit(sessionClosedEvent{
		Event: "session-closed", Session: id, Reason: errString(acceptErr),
		Kind: classify(acceptErr, closedLocally.Load()), Streams: count,
	})
}

// acceptQueued returns a stream still queued after AcceptStream reported the
// connection's end, or nil. Once both are ready, xtaci's AcceptStream picks one
// of them at random, so streams a client opened right before it closed the
// connection can come after the error: ask again until the error has come back
// 32 times in a row (a queued stream is then missed with odds of 2^-32).
func acceptQueued(sess *smux.Session) *smux.Stream {
	for i := 0; i < 32; i++ {
		if s, err := sess.AcceptStream(); err == nil {
			return s
		}
	}
	return nil
}

// waitFor waits for wg, at most d.
func waitFor(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}
