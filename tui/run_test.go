package tui

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/fakeapi"
)

// lockedBuffer is an output the program writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// runUntil runs Run over pipes and returns its error and output once
// stop returns.
func runUntil(t *testing.T, fake api.API, opts Options, stop func(ctx context.CancelFunc, out *lockedBuffer, in io.Writer)) (error, string) {
	t.Helper()
	inR, inW := io.Pipe()
	t.Cleanup(func() { inW.Close() })
	out := &lockedBuffer{}
	opts.Input, opts.Output = inR, out
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, fake, opts) }()
	stop(cancel, out, inW)
	select {
	case err := <-done:
		return err, out.String()
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
		return nil, ""
	}
}

func waitOutput(t *testing.T, out *lockedBuffer, text string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("output never showed %q:\n%q", text, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRunQuitsCleanlyOnQ(t *testing.T) {
	fake := fakeapi.Demo(fixedNow)
	err, out := runUntil(t, fake, Options{Now: fixedNow}, func(_ context.CancelFunc, out *lockedBuffer, in io.Writer) {
		waitOutput(t, out, "\x1b[?1049h") // no terminal here, so no size: nothing is drawn
		in.Write([]byte("q"))
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !strings.Contains(out, "\x1b[?1049h") || !strings.Contains(out, "\x1b[?1049l") {
		t.Error("the alternate screen must be entered and left")
	}
	if strings.Contains(out, "\x1b[?1002h") || strings.Contains(out, "\x1b[?1003h") {
		t.Error("mouse reporting must be off by default")
	}
	deadline := time.Now().Add(5 * time.Second)
	for fake.Feeds() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the console's feed outlived it")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRunStopsWithItsContext(t *testing.T) {
	err, out := runUntil(t, fakeapi.Demo(fixedNow), Options{Now: fixedNow, Mouse: true}, func(cancel context.CancelFunc, out *lockedBuffer, _ io.Writer) {
		waitOutput(t, out, "\x1b[?1049h")
		cancel()
	})
	if err != nil {
		t.Fatalf("a cancelled context is a clean stop, got %v", err)
	}
	if !strings.Contains(out, "\x1b[?1002h") {
		t.Error("Mouse should turn on cell-motion reporting")
	}
}

func TestLocalOptionsHonorNoColor(t *testing.T) {
	env := map[string]string{"NO_COLOR": "1"}
	o := localOptions(Options{Output: io.Discard}, func(k string) string { return env[k] })
	if !o.NoColor || o.Renderer == nil {
		t.Fatalf("NO_COLOR: %+v", o)
	}
	if o := localOptions(Options{Output: io.Discard}, func(string) string { return "" }); o.NoColor {
		t.Fatal("no NO_COLOR, yet no color")
	}
	m := newModel(fakeapi.New(fixedNow), localOptions(Options{Output: io.Discard}, func(k string) string { return env[k] }))
	if m.colorOn {
		t.Fatal("the model must start without color under NO_COLOR")
	}
}

// panicky panics when the console polls it, as a bug in the engine might.
type panicky struct{ *fakeapi.API }

func (panicky) Stats() api.Stats { panic("stats exploded") }

func TestRunRestoresTheTerminalOnPanic(t *testing.T) {
	err, out := runUntil(t, panicky{fakeapi.Demo(fixedNow)}, Options{Now: fixedNow}, func(context.CancelFunc, *lockedBuffer, io.Writer) {})
	if err == nil || !strings.Contains(err.Error(), "console crashed (terminal restored)") {
		t.Fatalf("Run: %v", err)
	}
	if !strings.Contains(out, "\x1b[?1049l") {
		t.Error("the alternate screen was not left")
	}
}
