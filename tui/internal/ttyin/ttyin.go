// Package ttyin bounds how much of a terminal's input the console's Bubble
// Tea program holds at once.
//
// Bubble Tea v1 reads input 256 bytes at a time and keeps what it has not
// parsed yet in one growing buffer, copied whole on every read, in two
// cases: until the end of a bracketed paste (ESC [ 2 0 1 ~) arrives, and,
// while its reads come back full, until a run of printable characters
// ends. A client that sends a paste start and then megabytes, or one long
// word without a pause, so grows the server's memory without limit and
// spends time quadratic in what it sent. Over SSH any viewer can do that.
//
// Reader sits between the terminal and the program. It passes input
// through unchanged, except that it keeps at most MaxPaste bytes of each
// bracketed paste (the rest of the paste is dropped; its end marker is
// passed on), and that after MaxBurst bytes of full reads in a row it
// makes one read short, which tells Bubble Tea that no more of the run is
// on its way. Both are far beyond what a person types or pastes into a
// console.
//
// Outside a paste Reader never holds input back: every byte read is passed
// on in the same Read call, because Bubble Tea's cancelable reader only
// calls Read when the terminal has input, so input kept for later could
// wait for the next key. Inside a paste it holds at most the start of what
// may be the paste's end marker, until the next byte says whether it is;
// Bubble Tea waits for that end marker anyway.
package ttyin

import (
	"io"
)

// Limits.
const (
	// MaxPaste is the most bytes of one bracketed paste passed on: more
	// than any template, form value or filter the console takes.
	MaxPaste = 64 << 10
	// MaxBurst is how many bytes may arrive in full reads in a row before
	// one read is made short.
	MaxBurst = 4 << 10
)

var (
	pasteStart = []byte("\x1b[200~")
	pasteEnd   = []byte("\x1b[201~")
)

// Reader bounds a terminal input stream; see the package comment.
type Reader struct {
	r        io.Reader
	maxPaste int
	maxBurst int

	pasting bool
	match   int // bytes of the marker being looked for matched so far
	body    int // bytes of the current paste passed on
	burst   int // bytes of full reads in a row
	dropped int64
	buf     []byte
}

// New returns a Reader over r with the package's limits.
func New(r io.Reader) *Reader { return NewWithLimits(r, MaxPaste, MaxBurst) }

// NewWithLimits returns a Reader over r that passes on at most maxPaste
// bytes of a paste and makes a read short after maxBurst bytes of full
// reads in a row.
func NewWithLimits(r io.Reader, maxPaste, maxBurst int) *Reader {
	return &Reader{r: r, maxPaste: max(maxPaste, 0), maxBurst: max(maxBurst, 1)}
}

// Dropped is how many bytes of pastes were dropped so far.
func (t *Reader) Dropped() int64 { return t.dropped }

// Read reads once from the underlying reader and returns what passes. It
// may return 0 bytes and no error when all it read was dropped or held.
// p must have room for more than a paste marker.
func (t *Reader) Read(p []byte) (int, error) {
	if len(p) <= len(pasteEnd) {
		return 0, io.ErrShortBuffer
	}
	limit := len(p)
	switch {
	case t.pasting:
		// Room for the held start of an end marker.
		limit -= len(pasteEnd) - 1
	case t.burst >= t.maxBurst:
		limit--
		t.burst = 0
	}
	if len(t.buf) < limit {
		t.buf = make([]byte, len(p))
	}
	in := t.buf[:limit]
	n, err := t.r.Read(in)
	if !t.pasting && n == len(p) {
		t.burst += n
	} else {
		t.burst = 0
	}
	out := 0
	for _, c := range in[:n] {
		if !t.pasting {
			p[out] = c
			out++
			if c == pasteStart[t.match] {
				t.match++
			} else if c == pasteStart[0] {
				t.match = 1
			} else {
				t.match = 0
			}
			if t.match == len(pasteStart) {
				t.pasting, t.match, t.body = true, 0, 0
			}
			continue
		}
		if c == pasteEnd[t.match] {
			t.match++
			if t.match == len(pasteEnd) {
				out += copy(p[out:], pasteEnd)
				t.pasting, t.match = false, 0
			}
			continue
		}
		// What looked like the end marker was paste text.
		out = t.text(p, out, pasteEnd[:t.match])
		t.match = 0
		if c == pasteEnd[0] {
			t.match = 1
			continue
		}
		out = t.text(p, out, []byte{c})
	}
	return out, err
}

// text passes on paste text while the paste is within its limit and drops
// the rest; it returns the new output length.
func (t *Reader) text(p []byte, out int, b []byte) int {
	keep := min(len(b), t.maxPaste-t.body)
	copy(p[out:], b[:keep])
	t.body += keep
	t.dropped += int64(len(b) - keep)
	return out + keep
}
