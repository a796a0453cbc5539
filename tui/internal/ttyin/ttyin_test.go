package ttyin

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// chunks is a source that returns at most the next of sizes bytes per
// Read (cycling), as a terminal returns what has arrived.
type chunks struct {
	data  []byte
	sizes []int
	i     int
}

func (c *chunks) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := len(p)
	if len(c.sizes) > 0 {
		n = min(n, max(c.sizes[c.i%len(c.sizes)], 1))
		c.i++
	}
	n = copy(p, c.data[:min(n, len(c.data))])
	c.data = c.data[n:]
	return n, nil
}

// readAll reads r to EOF with reads of bufSize, as Bubble Tea does, and
// fails when a read returns more than asked.
func readAll(t testing.TB, r io.Reader, bufSize int) []byte {
	t.Helper()
	var out []byte
	buf := make([]byte, bufSize)
	for range 1 << 20 {
		n, err := r.Read(buf)
		if n > len(buf) {
			t.Fatalf("read returned %d bytes into %d", n, len(buf))
		}
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("no EOF")
	return nil
}

// reference is what Reader passes on of in, computed on the whole input
// at once: everything outside pastes; of each paste its first maxPaste
// bytes and its end marker. A paste still open at the end keeps back what
// may be the start of its end marker.
func reference(in []byte, maxPaste int) []byte {
	var out []byte
	for len(in) > 0 {
		j := bytes.Index(in, pasteStart)
		if j < 0 {
			return append(out, in...)
		}
		out = append(out, in[:j+len(pasteStart)]...)
		in = in[j+len(pasteStart):]
		k := bytes.Index(in, pasteEnd)
		if k < 0 {
			held := 0
			for n := len(pasteEnd) - 1; n > 0; n-- {
				if bytes.HasSuffix(in, pasteEnd[:n]) {
					held = n
					break
				}
			}
			body := in[:len(in)-held]
			return append(out, body[:min(len(body), maxPaste)]...)
		}
		out = append(out, in[:min(k, maxPaste)]...)
		out = append(out, pasteEnd...)
		in = in[k+len(pasteEnd):]
	}
	return out
}

func TestReader(t *testing.T) {
	const maxPaste = 10
	paste := func(s string) string { return "\x1b[200~" + s + "\x1b[201~" }
	cases := []struct {
		name, in, want string
	}{
		{"keys and sequences pass", "abc\x1b[A\x1b[1;5Cq \r\x03", "abc\x1b[A\x1b[1;5Cq \r\x03"},
		{"a paste within the limit", "x" + paste("0123456789") + "y", "x" + paste("0123456789") + "y"},
		{"a paste over the limit is cut", "x" + paste(strings.Repeat("z", 1000)) + "y", "x" + paste("zzzzzzzzzz") + "y"},
		{"what looks like an end marker is paste text", paste("\x1b[20x\x1b[2"), paste("\x1b[20x\x1b[2")},
		{"an end marker right after an escape", "\x1b[200~ab\x1b\x1b[201~c", "\x1b[200~ab\x1b\x1b[201~c"},
		{"a paste without its end keeps its limit", "\x1b[200~" + strings.Repeat("z", 1000), "\x1b[200~zzzzzzzzzz"},
		{"end markers outside a paste pass", "\x1b[201~a", "\x1b[201~a"},
		{"two pastes", paste(strings.Repeat("1", 20)) + paste("2"), paste("1111111111") + paste("2")},
	}
	for _, c := range cases {
		if got := reference([]byte(c.in), maxPaste); string(got) != c.want {
			t.Fatalf("%s: the reference gives %q, want %q", c.name, got, c.want)
		}
		for _, sizes := range [][]int{nil, {1}, {2, 5}, {3, 1, 7}} {
			r := NewWithLimits(&chunks{data: []byte(c.in), sizes: sizes}, maxPaste, MaxBurst)
			if got := readAll(t, r, 16); string(got) != c.want {
				t.Errorf("%s (source reads of %v): got %q, want %q", c.name, sizes, got, c.want)
			}
		}
	}
}

// full is a source that always has more: every read fills the buffer.
type full struct{}

func (full) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

// TestLongRunsGetShortReads: while reads keep coming back full (a client
// sending one long word faster than it is read), every MaxBurst bytes one
// read is made short, which ends Bubble Tea's wait for the rest of it.
func TestLongRunsGetShortReads(t *testing.T) {
	r := New(full{})
	buf := make([]byte, 256)
	fullInARow, most, shorts := 0, 0, 0
	for range 4 * MaxBurst / 256 {
		n, err := r.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		if n == len(buf) {
			fullInARow++
			most = max(most, fullInARow)
			continue
		}
		shorts++
		fullInARow = 0
	}
	if most*len(buf) > MaxBurst || shorts < 3 {
		t.Fatalf("%d full reads in a row (%d bytes), %d short ones; want at most %d bytes between short reads", most, most*len(buf), shorts, MaxBurst)
	}
}

// TestPasteIsBoundedWhileOpen: a paste that never ends is passed on up to
// MaxPaste bytes; the rest is dropped as it comes.
func TestPasteIsBoundedWhileOpen(t *testing.T) {
	r := New(io.MultiReader(strings.NewReader("\x1b[200~"), io.LimitReader(full{}, 8<<20)))
	got := readAll(t, r, 256)
	if len(got) != len(pasteStart)+MaxPaste {
		t.Fatalf("passed on %d bytes of an 8 MiB paste; want %d", len(got), len(pasteStart)+MaxPaste)
	}
	if r.Dropped() != 8<<20-MaxPaste {
		t.Errorf("dropped %d", r.Dropped())
	}
}

func TestShortBuffer(t *testing.T) {
	if _, err := New(strings.NewReader("x")).Read(make([]byte, len(pasteEnd))); !errors.Is(err, io.ErrShortBuffer) {
		t.Fatalf("err %v", err)
	}
}

// FuzzReader: with any input, any way the terminal splits it and any read
// size, Reader passes on exactly what reference says, never more per read
// than asked.
func FuzzReader(f *testing.F) {
	f.Add([]byte("ab\x1b[200~hello\x1b[201~cd"), uint8(3), uint8(0))
	f.Add([]byte("\x1b[200~"+strings.Repeat("x", 40)+"\x1b[20\x1b[201~\x1b[200~\x1b[201"), uint8(1), uint8(9))
	f.Add([]byte("\x1b[200\x1b[200~~\x1b\x1b[201~"), uint8(2), uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, chunk, bufExtra uint8) {
		const maxPaste, maxBurst = 16, 24
		sizes := []int{int(chunk%13) + 1, int(chunk%5) + 1, 64}
		r := NewWithLimits(&chunks{data: in, sizes: sizes}, maxPaste, maxBurst)
		got := readAll(t, r, len(pasteEnd)+1+int(bufExtra%64))
		if want := reference(in, maxPaste); !bytes.Equal(got, want) {
			t.Fatalf("got  %q\nwant %q", got, want)
		}
	})
}
