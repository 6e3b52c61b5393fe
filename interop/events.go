package main

// The machine-readable contract with the Java integration tests: one JSON
// object per line on stdout, always with "event" first. Field names and
// meanings are listed in README.md; add fields freely, never rename them.

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"sync"

	"github.com/xtaci/smux"
)

type emitter struct {
	mu sync.Mutex
	w  io.Writer
}

func newEmitter(w io.Writer) *emitter { return &emitter{w: w} }

// emit writes v as one line. Lines from concurrent streams never interleave.
func (e *emitter) emit(v interface{}) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"event":"internal-error","err":"cannot encode event"}`)
	}
	b = append(b, '\n')
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _ = e.w.Write(b)
}

// startEvent is "listening" (server) or "connected" (client).
type startEvent struct {
	Event     string   `json:"event"`
	Addr      string   `json:"addr"`
	Local     string   `json:"local,omitempty"`
	Smux      string   `json:"smux"`
	HalfClose bool     `json:"halfClose"`
	Features  features `json:"features"`
	Version   int      `json:"version"`
	Mode      string   `json:"mode"`
}

type sessionEvent struct {
	Event   string `json:"event"`
	Session int    `json:"session"`
	Remote  string `json:"remote"`
	Local   string `json:"local"`
}

type streamEvent struct {
	Event     string  `json:"event"`
	Session   int     `json:"session"`
	Index     int     `json:"index"`
	ID        uint32  `json:"id"`
	Mode      string  `json:"mode"`
	BytesIn   int64   `json:"bytesIn"`
	BytesOut  int64   `json:"bytesOut"`
	Sha256In  string  `json:"sha256In"`
	Sha256Out string  `json:"sha256Out"`
	Err       string  `json:"err"`
	Seconds   float64 `json:"seconds"`
}

type sessionClosedEvent struct {
	Event   string `json:"event"`
	Session int    `json:"session"`
	Reason  string `json:"reason"`
	Kind    string `json:"kind"`
	Streams int    `json:"streams"`
}

// doneEvent is "done" (the client's last line) or, with -hold, "run-over"
// (every stream is over; the session still stands until the next stdin line).
type doneEvent struct {
	Event   string  `json:"event"`
	Streams int     `json:"streams"`
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"`
	// Mbps is megabits per second (10^6 bit/s); MBps is megabytes per second
	// (10^6 byte/s). Both are computed from Bytes and Seconds.
	Mbps   float64 `json:"mbps"`
	MBps   float64 `json:"mbytesPerSec"`
	Errors int     `json:"errors"`
	// PeerEnded counts the failed streams whose writes stopped because the
	// peer had ended the stream (its FIN): how a refused stream shows.
	PeerEnded int `json:"peerEnded"`
}

// readyEvent: a -hold client is connected and waits for its go-ahead line.
type readyEvent struct {
	Event string `json:"event"`
}

type exitEvent struct {
	Event  string `json:"event"`
	Reason string `json:"reason"`
}

// Session end kinds, so tests need not parse error strings.
const (
	kindEOF       = "eof"       // the peer closed the TCP connection
	kindProtocol  = "protocol"  // smux reported a protocol violation (ErrInvalidProtocol)
	kindLocal     = "local"     // this program closed the session (end of run, signal, stdin EOF)
	kindKeepalive = "keepalive" // smux closed the session itself: nothing arrived within the keepalive timeout
	kindIO        = "io"        // any other socket error (reset, ...)
)

// classify names why a session ended. smux's only internal reason to close a
// session by itself is the keepalive timeout, which surfaces as ErrClosedPipe.
func classify(err error, closedLocally bool) string {
	switch {
	case closedLocally:
		return kindLocal
	case err == nil:
		return kindLocal
	case errors.Is(err, smux.ErrInvalidProtocol):
		return kindProtocol
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return kindEOF
	case errors.Is(err, io.ErrClosedPipe):
		return kindKeepalive
	case errors.Is(err, net.ErrClosed):
		return kindLocal
	default:
		return kindIO
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
