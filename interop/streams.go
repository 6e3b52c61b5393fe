package main

// Per-stream behaviour of every mode, for both roles. A server handler serves
// one accepted stream; a client handler drives one opened stream against a
// server in the same mode. Handlers own the stream and close it.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// muxStream is what both smux releases' *smux.Stream offer.
type muxStream interface {
	io.ReadWriteCloser
	ID() uint32
	SetDeadline(t time.Time) error
}

const ioBufferSize = 64 * 1024

// The script of shared/vectors/xtaci-smux-1.5.16/README.md.
const (
	scriptHello       = "hello smux"
	scriptWorld       = "world"
	scriptPayloadSize = 70000
)

// lengthPrefixSize: a client in checksum mode sends the payload length as an
// 8-byte big-endian prefix, because v1.5.16 has no half-close to mark the end.
const lengthPrefixSize = 8

type streamResult struct {
	in, out *tally
	err     error
	start   time.Time
}

func newStreamResult(o *options) *streamResult {
	// checksum mode needs the digests whatever -no-hash says.
	if o.noHash && o.mode != modeChecksum {
		return &streamResult{in: newCounter(), out: newCounter(), start: time.Now()}
	}
	return &streamResult{in: newTally(), out: newTally(), start: time.Now()}
}

func (r *streamResult) event(session, index int, id uint32, mode string) streamEvent {
	return streamEvent{
		Event:     "stream",
		Session:   session,
		Index:     index,
		ID:        id,
		Mode:      mode,
		BytesIn:   r.in.n,
		BytesOut:  r.out.n,
		Sha256In:  r.in.hex(),
		Sha256Out: r.out.hex(),
		Err:       errString(r.err),
		Seconds:   time.Since(r.start).Seconds(),
	}
}

// guard runs a handler and turns a panic into the stream's error, so one bad
// stream never takes the whole server down.
func guard(r *streamResult, f func(*streamResult) error) {
	defer func() {
		if p := recover(); p != nil {
			r.err = fmt.Errorf("internal panic: %v", p)
		}
	}()
	r.err = f(r)
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }

// ---- server side ----

func serveStream(o *options, st muxStream, r *streamResult) error {
	defer st.Close()
	if o.timeout > 0 {
		_ = st.SetDeadline(time.Now().Add(o.timeout))
	}
	buf := make([]byte, ioBufferSize)
	switch o.mode {
	case modeEcho:
		return serveEcho(st, buf, r)
	case modeDiscard:
		// A reader that pauses (-read-delay): meanwhile the session buffers what its
		// receive budget allows (v1) or the window (v2), and the writer's socket fills.
		time.Sleep(o.readDelay)
		return readToEOF(st, buf, r.in, nil)
	case modeSource:
		n := o.bytes
		if o.request {
			var err error
			if n, err = readLengthPrefix(st); err != nil {
				return fmt.Errorf("source request: %w", err)
			}
		}
		return writeGenerated(st, &patternGen{}, n, buf, r.out, nil)
	case modeChecksum:
		return serveChecksum(st, buf, r)
	case modeScript:
		return serveScript(st, buf, r)
	}
	return fmt.Errorf("unknown mode %q", o.mode)
}

// serveEcho copies the stream back to itself until the peer's FIN.
func serveEcho(st muxStream, buf []byte, r *streamResult) error {
	for {
		n, err := readSome(st, buf)
		if n > 0 {
			r.in.add(buf[:n])
			w, werr := st.Write(buf[:n])
			r.out.add(buf[:w])
			if werr != nil {
				return fmt.Errorf("echo write: %w", werr)
			}
		}
		if err != nil {
			if isEOF(err) {
				return nil
			}
			return err
		}
	}
}

// serveChecksum reads the length prefix and that many bytes, then answers the
// SHA-256 of those bytes. sha256In/bytesIn cover the payload, not the prefix.
func serveChecksum(st muxStream, buf []byte, r *streamResult) error {
	n, err := readLengthPrefix(st)
	if err != nil {
		return fmt.Errorf("checksum length prefix: %w", err)
	}
	if err := readCount(st, n, buf, r.in, nil); err != nil {
		return fmt.Errorf("checksum payload: %w", err)
	}
	digest := r.in.sum()
	w, err := st.Write(digest)
	r.out.add(digest[:w])
	return err
}

// readLengthPrefix reads the 8-byte big-endian count that checksum (and, with
// -source-request, source) streams start with. It is framing: not counted in
// bytesIn or sha256In.
func readLengthPrefix(st muxStream) (int64, error) {
	var prefix [lengthPrefixSize]byte
	if err := readExactly(st, prefix[:], newCounter()); err != nil {
		return 0, err
	}
	n := binary.BigEndian.Uint64(prefix[:])
	if n > math.MaxInt64 {
		return 0, fmt.Errorf("length prefix %d too large", n)
	}
	return int64(n), nil
}

func writeLengthPrefix(st muxStream, n int64) error {
	var prefix [lengthPrefixSize]byte
	binary.BigEndian.PutUint64(prefix[:], uint64(n))
	return writeAll(st, prefix[:], newCounter())
}

func serveScript(st muxStream, buf []byte, r *streamResult) error {
	hello := make([]byte, len(scriptHello))
	if err := readExactly(st, hello, r.in); err != nil {
		return fmt.Errorf("script step 2 (read hello): %w", err)
	}
	if string(hello) != scriptHello {
		return fmt.Errorf("script step 2: got %q, want %q", hello, scriptHello)
	}
	if err := writeAll(st, []byte(scriptWorld), r.out); err != nil {
		return fmt.Errorf("script step 3 (write world): %w", err)
	}
	v := newVerifier(&patternGen{})
	if err := readCount(st, scriptPayloadSize, buf, r.in, v.check); err != nil {
		return fmt.Errorf("script step 4 (read payload): %w", err)
	}
	if v.mismatch != nil {
		return fmt.Errorf("script step 4: %w", v.mismatch)
	}
	if err := readToEOF(st, buf, r.in, nil); err != nil {
		return fmt.Errorf("script step 5 (read to EOF): %w", err)
	}
	if extra := r.in.n - int64(len(scriptHello)+scriptPayloadSize); extra != 0 {
		return fmt.Errorf("script step 5: %d unexpected bytes before EOF", extra)
	}
	return nil
}

func writeAll(w io.Writer, p []byte, out *tally) error {
	n, err := w.Write(p)
	out.add(p[:n])
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	return err
}

// ---- client side ----

// streamPlan is what a client stream sends: size bytes of newGen() (size < 0:
// until stop() says so).
type streamPlan struct {
	size   int64
	newGen func() generator
	stop   func() bool
	half   bool // end the write side with CloseWrite and wait for the peer's FIN
	// watchFin (discard): fail the stream if the peer ends it while it is written
	watchFin bool
}

func driveStream(o *options, st muxStream, p streamPlan, r *streamResult) error {
	switch o.mode {
	case modeEcho:
		return driveEcho(st, p, r, o.writeSize)
	case modeDiscard:
		return driveDiscard(st, p, r, o.writeSize)
	case modeSource:
		return driveSource(st, p, r, o.request)
	case modeChecksum:
		return driveChecksum(st, p, r, o.writeSize)
	case modeScript:
		return driveScript(st, p, r, o.writeSize)
	}
	return fmt.Errorf("unknown mode %q", o.mode)
}

// endWrite half-closes when the plan asks for it and the release can.
func endWrite(st muxStream, p streamPlan) (bool, error) {
	if !p.half {
		return false, nil
	}
	hc, ok := st.(halfCloser)
	if !ok {
		return false, nil
	}
	return true, hc.CloseWrite()
}

// expectEOF reads what follows our half-close: the peer must end the stream
// without sending more.
func expectEOF(st muxStream, r *streamResult, allowed int64) error {
	before := r.in.n
	if err := readToEOF(st, make([]byte, 4096), r.in, nil); err != nil {
		return fmt.Errorf("waiting for the peer's FIN: %w", err)
	}
	if extra := r.in.n - before; extra > allowed {
		return fmt.Errorf("%d unexpected bytes before the peer's FIN", extra)
	}
	return nil
}

func driveEcho(st muxStream, p streamPlan, r *streamResult, writeSize int) error {
	defer st.Close()
	wantHalf := false
	if p.half {
		_, wantHalf = st.(halfCloser)
	}

	writeDone := make(chan error, 1)
	var wroteAll atomic.Bool // set before CloseWrite, whose FIN may be echoed before it returns
	go func() {
		err := writeGenerated(st, p.newGen(), p.size, make([]byte, writeSize), r.out, p.stop)
		wroteAll.Store(err == nil)
		if err == nil && wantHalf {
			_, err = endWrite(st, p)
		}
		writeDone <- err
	}()

	// The reader counts what came back; without half-close it cannot see an
	// end of stream and stops once it has everything the writer sent.
	var got atomic.Int64
	progress := make(chan struct{}, 1)
	readDone := make(chan error, 1)
	v := newVerifier(p.newGen())
	go func() {
		readDone <- readToEOF(st, make([]byte, ioBufferSize), r.in, func(b []byte) {
			v.check(b)
			got.Add(int64(len(b)))
			select {
			case progress <- struct{}{}:
			default:
			}
		})
	}()

	var rerr error
	readFinished := false
	select {
	case werr := <-writeDone:
		if werr != nil {
			_ = st.Close()
			<-readDone
			return fmt.Errorf("echo write: %w (%d bytes came back)", werr, got.Load())
		}
	case rerr = <-readDone:
		readFinished = true
		var werr error
		writerRunning := false
		if wroteAll.Load() {
			werr = <-writeDone
		} else {
			select {
			case werr = <-writeDone:
			default:
				writerRunning = true
			}
		}
		if !writerRunning {
			if werr != nil && rerr == nil {
				return fmt.Errorf("echo write: %w (%d bytes came back)", werr, got.Load())
			}
		} else {
			// The echo ended while we were still writing: stop the writer.
			_ = st.Close()
			<-writeDone
			if rerr == nil {
				return fmt.Errorf("echo: stream ended while writing, after %d bytes came back of %d sent", got.Load(), r.out.n)
			}
		}
	}
	if rerr != nil {
		return fmt.Errorf("echo read: %w", rerr)
	}
	// The writer is done; r.out is final.
	total := r.out.n
	for !readFinished && got.Load() < total {
		select {
		case <-progress:
		case rerr = <-readDone:
			readFinished = true
		}
	}
	if !readFinished {
		if wantHalf {
			rerr = <-readDone // the peer's FIN must follow the echo
		} else {
			_ = st.Close() // unblocks the reader, which has all it needs
			<-readDone
		}
	}
	switch {
	case rerr != nil:
		return fmt.Errorf("echo read: %w", rerr)
	case v.mismatch != nil:
		return fmt.Errorf("echo: %w", v.mismatch)
	case r.in.n != total:
		return fmt.Errorf("echo: %d bytes came back, %d sent", r.in.n, total)
	}
	return nil
}

func driveDiscard(st muxStream, p streamPlan, r *streamResult, writeSize int) error {
	if p.watchFin {
		return driveDiscardWatched(st, p, r, writeSize)
	}
	defer st.Close()
	if err := writeGenerated(st, p.newGen(), p.size, make([]byte, writeSize), r.out, p.stop); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	half, err := endWrite(st, p)
	if err != nil {
		return fmt.Errorf("close-write: %w", err)
	}
	if half {
		return expectEOF(st, r, 0)
	}
	return nil
}

// driveDiscardWatched (-watch-fin) writes the payload while a watcher reads the
// stream. A discard server reads to our FIN and only then ends the stream, so
// its FIN before our last write returned means it ended (typically refused)
// the stream: a server at its stream limit answers the SYN with FIN. Neither
// release says so by itself: v1.5.58's Write waits for a window update that
// never comes, v1.5.16's returns EOF, and both take whatever fits in the
// window without an error.
func driveDiscardWatched(st muxStream, p streamPlan, r *streamResult, writeSize int) error {
	defer st.Close()
	var (
		mu         sync.Mutex
		writing    = true
		endedEarly bool
	)
	peer := make(chan error, 1)
	go func() {
		err := readToEOF(st, make([]byte, 4096), r.in, nil)
		mu.Lock()
		endedEarly = writing
		mu.Unlock()
		if endedEarly {
			_ = st.Close() // wakes the writer, which may be waiting for window
		}
		peer <- err
	}()
	werr := writeGenerated(st, p.newGen(), p.size, make([]byte, writeSize), r.out, p.stop)
	mu.Lock()
	writing = false
	early := endedEarly
	mu.Unlock()
	if early {
		if perr := <-peer; perr != nil {
			return fmt.Errorf("read: %w (while writing)", perr)
		}
		return fmt.Errorf("write: %w after %d bytes", errPeerEnded, r.out.n)
	}
	if werr != nil {
		_ = st.Close()
		<-peer
		if errors.Is(werr, io.EOF) { // v1.5.16's Write saw the FIN first
			return fmt.Errorf("write: %w after %d bytes", errPeerEnded, r.out.n)
		}
		return fmt.Errorf("write: %w", werr)
	}
	half, err := endWrite(st, p)
	if err != nil {
		_ = st.Close()
		<-peer
		return fmt.Errorf("close-write: %w", err)
	}
	if !half {
		_ = st.Close()
		<-peer // ends with our close
		return nil
	}
	// The server's FIN after it has read everything.
	if perr := <-peer; perr != nil {
		return fmt.Errorf("waiting for the peer's FIN: %w", perr)
	}
	if r.in.n > 0 {
		return fmt.Errorf("%d unexpected bytes before the peer's FIN", r.in.n)
	}
	return nil
}

// errPeerEnded: the peer ended the stream (its FIN) while this side was still
// writing to it.
var errPeerEnded = errors.New("the peer ended the stream (FIN) while it was being written")

// driveSource reads what a source server sends: p.size bytes of the pattern
// (asking for them first with -source-request).
func driveSource(st muxStream, p streamPlan, r *streamResult, request bool) error {
	defer st.Close()
	if request {
		if err := writeLengthPrefix(st, p.size); err != nil {
			return fmt.Errorf("source request: %w", err)
		}
	}
	v := newVerifier(&patternGen{})
	if err := readToEOF(st, make([]byte, ioBufferSize), r.in, v.check); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if v.mismatch != nil {
		return fmt.Errorf("source: %w", v.mismatch)
	}
	if r.in.n != p.size {
		return fmt.Errorf("source: got %d bytes, want %d", r.in.n, p.size)
	}
	return nil
}

func driveChecksum(st muxStream, p streamPlan, r *streamResult, writeSize int) error {
	defer st.Close()
	if err := writeLengthPrefix(st, p.size); err != nil {
		return fmt.Errorf("write length prefix: %w", err)
	}
	if err := writeGenerated(st, p.newGen(), p.size, make([]byte, writeSize), r.out, nil); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if _, err := endWrite(st, p); err != nil {
		return fmt.Errorf("close-write: %w", err)
	}
	digest := make([]byte, 32)
	if err := readExactly(st, digest, r.in); err != nil {
		return fmt.Errorf("read digest: %w", err)
	}
	if want := r.out.sum(); !bytes.Equal(digest, want) {
		return fmt.Errorf("checksum: peer digest %x, want %x", digest, want)
	}
	// The server closes after its digest: wait for that FIN, so the stream
	// event means the whole exchange is over.
	return expectEOF(st, r, 0)
}

func driveScript(st muxStream, p streamPlan, r *streamResult, writeSize int) error {
	defer st.Close()
	if err := writeAll(st, []byte(scriptHello), r.out); err != nil {
		return fmt.Errorf("script step 2 (write hello): %w", err)
	}
	world := make([]byte, len(scriptWorld))
	if err := readExactly(st, world, r.in); err != nil {
		return fmt.Errorf("script step 3 (read world): %w", err)
	}
	if string(world) != scriptWorld {
		return fmt.Errorf("script step 3: got %q, want %q", world, scriptWorld)
	}
	if err := writeGenerated(st, &patternGen{}, scriptPayloadSize, make([]byte, writeSize), r.out, nil); err != nil {
		return fmt.Errorf("script step 4 (write payload): %w", err)
	}
	half, err := endWrite(st, p)
	if err != nil {
		return fmt.Errorf("script step 5 (close-write): %w", err)
	}
	if half {
		return expectEOF(st, r, 0)
	}
	return nil
}
