package tuitest

import (
	"bytes"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a buffer the console writes from its commands' goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitOutput waits until the terminal received want.
func waitOutput(t *testing.T, out *syncBuffer, what, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: the terminal got %q", what, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCopyWritesOSC52: y puts the selected entry's id on the terminal's
// clipboard with an OSC 52 sequence and says so; Y puts the entry's JSON.
func TestCopyWritesOSC52(t *testing.T) {
	out := &syncBuffer{}
	c := Start(t, Fixture{API: sortEngine(t), Width: 140, Height: 30, Output: out})
	c.WaitFor("the entries", func(s string) bool { return len(eventRows(s)) == 4 })
	// Following: the newest entry, alpha, is selected.
	c.Type("y")
	waitOutput(t, out, "the id's OSC 52", "\x1b]52;c;"+base64.StdEncoding.EncodeToString([]byte("sort-alpha"))+"\a")
	c.WaitText("copied entry id sort-alpha (via OSC 52: the terminal must allow it)")

	c.Type("Y")
	c.WaitText("copied the JSON of entry sort-alpha")
	s := out.String()
	i := strings.LastIndex(s, "\x1b]52;c;")
	j := strings.Index(s[i:], "\a")
	if i < 0 || j < 0 {
		t.Fatalf("no second OSC 52 sequence in %q", s)
	}
	raw, err := base64.StdEncoding.DecodeString(s[i+len("\x1b]52;c;") : i+j])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"_id": "sort-alpha"`) || !strings.Contains(string(raw), `"title": "changed alpha"`) {
		t.Errorf("the copied JSON is not the entry's:\n%s", raw)
	}
}
