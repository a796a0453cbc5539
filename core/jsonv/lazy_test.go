package jsonv

import (
	"sync"
	"sync/atomic"
	"testing"
)

// lazyRendered is a Lazy object as core/auditlog builds one: markdown is
// known at once, plainText and html need the fill.
func lazyRendered(fills *atomic.Int32) Value {
	return Lazy([]Member{{Key: "markdown", Value: Str("**a**"), KeyOffset: -1}}, func(m *Members) {
		fills.Add(1)
		m.Set("plainText", Str("a"))
		m.Set("markdown", Str("**a**"))
		m.Set("html", Str("<strong>a</strong>"))
	})
}

// TestLazyFillsOnlyWhenNeeded: a known member is read without filling; any
// other read fills once, and the object then reads as an eager one would.
func TestLazyFillsOnlyWhenNeeded(t *testing.T) {
	for _, tc := range []struct {
		name  string
		read  func(v Value) any
		want  any
		fills int32
	}{
		{"Get known", func(v Value) any { return v.Get("markdown").Text() }, "**a**", 0},
		{"Has known", func(v Value) any { return v.Has("markdown") }, true, 0},
		{"GetPtr known", func(v Value) any { return v.GetPtr("markdown").Text() }, "**a**", 0},
		{"Path known", func(v Value) any { return Obj(nil).With("t", v).Path("t", "markdown").Text() }, "**a**", 0},
		{"Get other", func(v Value) any { return v.Get("html").Text() }, "<strong>a</strong>", 1},
		{"Has missing", func(v Value) any { return v.Has("nope") }, false, 1},
		{"GetPtr other", func(v Value) any { return v.GetPtr("plainText").Text() }, "a", 1},
		{"Len", func(v Value) any { return v.Len() }, 3, 1},
		{"Members", func(v Value) any { return len(v.Members()) }, 3, 1},
		{"Marshal", func(v Value) any { return string(Marshal(v)) }, `{"plainText":"a","markdown":"**a**","html":"<strong>a</strong>"}`, 1},
		{"Truthy", func(v Value) any { return v.Truthy() }, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fills atomic.Int32
			v := lazyRendered(&fills)
			if got := tc.read(v); got != tc.want {
				t.Errorf("read %v, want %v", got, tc.want)
			}
			if got := fills.Load(); got != tc.fills {
				t.Errorf("filled %d times, want %d", got, tc.fills)
			}
			// Every later read sees the whole object, filled at most once.
			if got := string(Marshal(v)); got != `{"plainText":"a","markdown":"**a**","html":"<strong>a</strong>"}` {
				t.Errorf("after: %s", got)
			}
			if got := fills.Load(); got != 1 {
				t.Errorf("filled %d times in all, want 1", got)
			}
		})
	}
}

// TestLazyConcurrentReaders: subscriptions render one context on several
// goroutines; they fill it once and all read it whole (run with -race).
func TestLazyConcurrentReaders(t *testing.T) {
	var fills atomic.Int32
	v := lazyRendered(&fills)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got := v.Get("plainText").Text(); got != "a" {
				t.Errorf("plainText %q", got)
			}
			if got := v.Len(); got != 3 {
				t.Errorf("len %d", got)
			}
		}()
	}
	wg.Wait()
	if got := fills.Load(); got != 1 {
		t.Errorf("filled %d times, want 1", got)
	}
}

// TestEscapedLazyStaysLazy: JSON templates read the escaped context; a
// known member escapes without filling the original, and the rest
// escapes as an eager object's would.
func TestEscapedLazyStaysLazy(t *testing.T) {
	var fills atomic.Int32
	v := Lazy([]Member{{Key: "markdown", Value: Str(`say "hi"`), KeyOffset: -1}}, func(m *Members) {
		fills.Add(1)
		m.Set("plainText", Str(`say "hi"`))
		m.Set("markdown", Str(`say "hi"`))
		m.Set("html", Str(`say <em>"hi"</em>`))
	})
	esc := EscapeStrings(Obj(nil).With("title", v))
	if got := esc.Path("title", "markdown").Text(); got != `say \"hi\"` {
		t.Errorf("escaped markdown %q", got)
	}
	if got := fills.Load(); got != 0 {
		t.Fatalf("escaping filled the object %d times before anything else was read", got)
	}
	if got, want := string(Marshal(esc)), string(Marshal(EscapeStrings(Obj(nil).With("title", v)))); got != want {
		t.Errorf("escaped lazy %s, want %s", got, want)
	}
	eager := NewMembers(3)
	eager.Set("plainText", Str(`say "hi"`))
	eager.Set("markdown", Str(`say "hi"`))
	eager.Set("html", Str(`say <em>"hi"</em>`))
	if got, want := string(Marshal(esc.Get("title"))), string(Marshal(EscapeStrings(Obj(eager)))); got != want {
		t.Errorf("escaped lazy %s, want as eager %s", got, want)
	}
	if got := fills.Load(); got != 1 {
		t.Errorf("filled %d times, want 1", got)
	}
}
