package main

// Deterministic payloads, running digests, and the read helpers every mode
// uses. Payloads are reproducible from (content, seed, stream index) so either
// side can verify what it receives without keeping a copy of what was sent.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand"
)

// patternModulus: byte i of a pattern payload is i mod 251. A prime modulus
// keeps the pattern from lining up with any power-of-two frame or buffer size.
const patternModulus = 251

// generator produces one stream's payload; successive Fill calls continue
// where the previous one stopped, whatever the chunk sizes.
type generator interface {
	Fill(p []byte)
}

// patternTable holds enough of the pattern that any chunk is one copy away.
var patternTable = func() []byte {
	t := make([]byte, 64*1024+patternModulus)
	for i := range t {
		t[i] = byte(i % patternModulus)
	}
	return t
}()

type patternGen struct{ off int64 }

func (g *patternGen) Fill(p []byte) {
	for len(p) > 0 {
		start := int(g.off % patternModulus)
		n := copy(p, patternTable[start:])
		p = p[n:]
		g.off += int64(n)
	}
}

// randomGen: math/rand's Read keeps its position across calls, so the byte
// sequence depends on the seed only, never on how it is chunked.
type randomGen struct{ r *rand.Rand }

func (g *randomGen) Fill(p []byte) { _, _ = g.r.Read(p) }

// contentSeed derives a per-stream seed: streams must differ so that a peer
// which mixes up frames of two streams is caught.
func contentSeed(seed int64, index int) int64 {
	return seed*1000003 + int64(index) + 1
}

func newGenerator(content string, seed int64, index int) generator {
	if content == "random" {
		return &randomGen{r: rand.New(rand.NewSource(contentSeed(seed, index)))}
	}
	return &patternGen{}
}

// tally counts bytes and keeps a running SHA-256 of one direction of a stream.
// Without a hash (-no-hash) it only counts: SHA-256 runs at a few hundred MB/s
// per core, which would make the peer the bottleneck of a throughput run.
type tally struct {
	n int64
	h hash.Hash
}

func newTally() *tally { return &tally{h: sha256.New()} }

func newCounter() *tally { return &tally{} }

func (t *tally) add(p []byte) {
	t.n += int64(len(p))
	if t.h != nil {
		t.h.Write(p)
	}
}

func (t *tally) sum() []byte {
	if t.h == nil {
		return nil
	}
	return t.h.Sum(nil)
}

// hex is the digest in lower-case hex, or "" when not hashing.
func (t *tally) hex() string { return hex.EncodeToString(t.sum()) }

// verifier compares received bytes with what a generator says they must be
// and remembers the first difference.
type verifier struct {
	want     generator
	buf      []byte
	off      int64
	mismatch error
}

func newVerifier(g generator) *verifier { return &verifier{want: g} }

func (v *verifier) check(p []byte) {
	if cap(v.buf) < len(p) {
		v.buf = make([]byte, len(p))
	}
	exp := v.buf[:len(p)]
	v.want.Fill(exp)
	if v.mismatch == nil {
		for i := range p {
			if p[i] != exp[i] {
				v.mismatch = fmt.Errorf("data mismatch at offset %d: got 0x%02x, want 0x%02x",
					v.off+int64(i), p[i], exp[i])
				break
			}
		}
	}
	v.off += int64(len(p))
}

// readSome is stream.Read with one correction. xtaci/smux's waitRead selects
// among several ready channels at random; when the connection ends (or the FIN
// arrives) right behind the last data frames, Read can report EOF or the
// connection error although bytes are still buffered. Those channels stay
// closed, so one more Read never blocks: it either returns the buffered bytes
// or the same error again.
func readSome(r io.Reader, p []byte) (int, error) {
	n, err := r.Read(p)
	if err != nil && n == 0 {
		if n2, _ := r.Read(p); n2 > 0 {
			return n2, nil
		}
	}
	return n, err
}

// readExactly fills p, reporting a short stream as io.ErrUnexpectedEOF.
func readExactly(r io.Reader, p []byte, in *tally) error {
	got := 0
	for got < len(p) {
		n, err := readSome(r, p[got:])
		if n > 0 {
			in.add(p[got : got+n])
			got += n
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("%w after %d of %d bytes", io.ErrUnexpectedEOF, got, len(p))
			}
			return err
		}
	}
	return nil
}

// readCount reads exactly n bytes through buf, feeding each chunk to sink.
func readCount(r io.Reader, n int64, buf []byte, in *tally, sink func([]byte)) error {
	var got int64
	for got < n {
		chunk := buf
		if rest := n - got; rest < int64(len(chunk)) {
			chunk = chunk[:rest]
		}
		k, err := readSome(r, chunk)
		if k > 0 {
			in.add(chunk[:k])
			if sink != nil {
				sink(chunk[:k])
			}
			got += int64(k)
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("%w after %d of %d bytes", io.ErrUnexpectedEOF, got, n)
			}
			return err
		}
	}
	return nil
}

// readToEOF reads until end of stream; EOF is success.
func readToEOF(r io.Reader, buf []byte, in *tally, sink func([]byte)) error {
	for {
		k, err := readSome(r, buf)
		if k > 0 {
			in.add(buf[:k])
			if sink != nil {
				sink(buf[:k])
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// writeGenerated writes n bytes of g (or, with n < 0, until stop returns true)
// in chunks of len(buf).
func writeGenerated(w io.Writer, g generator, n int64, buf []byte, out *tally, stop func() bool) error {
	var sent int64
	for n < 0 || sent < n {
		if n < 0 && stop() {
			return nil
		}
		chunk := buf
		if n >= 0 {
			if rest := n - sent; rest < int64(len(chunk)) {
				chunk = chunk[:rest]
			}
		}
		g.Fill(chunk)
		k, err := w.Write(chunk)
		if k > 0 {
			out.add(chunk[:k])
			sent += int64(k)
		}
		if err != nil {
			return err
		}
		if k < len(chunk) {
			return io.ErrShortWrite
		}
	}
	return nil
}
