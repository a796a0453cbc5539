// Package lograte keeps a flood of identical warnings and errors from
// flooding the log. Handler wraps an slog.Handler: the first record of a
// kind passes, identical ones within the window are counted instead of
// written, and when the window ends one more record says how many there
// were ("repeated=9855"). A store that cannot write then logs two lines
// per window instead of one per refused request.
//
// Records are identical when they have the same level, message and
// attributes (those added with Logger.With included), durations and times
// aside, since those differ on every request. Records below
// slog.LevelWarn always pass: they are not the ones that repeat because
// something is broken.
package lograte

import (
	"context"
	"hash/maphash"
	"log/slog"
	"math"
	"sync"
	"time"
)

// Defaults.
const (
	DefaultWindow = 10 * time.Second
	// DefaultMaxKinds bounds the kinds of records tracked at once. Past it,
	// records of new kinds pass unlimited until a window ends: memory stays
	// bounded, and nothing is hidden without being counted.
	DefaultMaxKinds = 256
)

// CountKey is the attribute of the summary record that holds how many
// identical records were left out.
const CountKey = "repeated"

// Options configure New.
type Options struct {
	// Window is how long identical records are counted rather than
	// written after the first. Default DefaultWindow; negative disables
	// the limit.
	Window time.Duration
	// MaxKinds bounds the kinds tracked at once. Default DefaultMaxKinds.
	MaxKinds int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Handler is an slog.Handler that rate-limits repeated warnings and errors.
// Handlers derived from it with WithAttrs and WithGroup share its counts.
// Close writes the counts still pending; the owner of the root handler
// calls it once, when the program no longer logs.
type Handler struct {
	inner  slog.Handler
	st     *state
	prefix uint64 // hash of the attributes and groups added so far
}

// state is what every handler derived from one New shares.
type state struct {
	window   time.Duration
	maxKinds int
	now      func() time.Time
	seed     maphash.Seed

	mu     sync.Mutex
	kinds  map[uint64]*kind
	closed bool
}

// kind is one sort of record within its window.
type kind struct {
	start   time.Time
	first   slog.Record  // the record that passed, for the summary
	h       slog.Handler // the inner handler it went to (with its attributes)
	dropped int
	timer   *time.Timer // writes the summary when the window ends; nil until something is dropped
	flushed bool        // its summary was taken (by the timer or Close)
}

// New wraps inner.
func New(inner slog.Handler, o Options) *Handler {
	if o.Window == 0 {
		o.Window = DefaultWindow
	}
	if o.MaxKinds <= 0 {
		o.MaxKinds = DefaultMaxKinds
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Handler{inner: inner, st: &state{
		window: o.Window, maxKinds: o.MaxKinds, now: o.Now,
		seed: maphash.MakeSeed(), kinds: map[uint64]*kind{},
	}}
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	var mh maphash.Hash
	mh.SetSeed(h.st.seed)
	writeUint(&mh, h.prefix)
	for _, a := range as {
		hashAttr(&mh, a)
	}
	return &Handler{inner: h.inner.WithAttrs(as), st: h.st, prefix: mh.Sum64()}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	var mh maphash.Hash
	mh.SetSeed(h.st.seed)
	writeUint(&mh, h.prefix)
	mh.WriteString("\x00group\x00" + name)
	return &Handler{inner: h.inner.WithGroup(name), st: h.st, prefix: mh.Sum64()}
}

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn || h.st.window < 0 {
		return h.inner.Handle(ctx, r)
	}
	key := h.key(r)
	st := h.st
	now := st.now()
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		return h.inner.Handle(ctx, r)
	}
	k, ok := st.kinds[key]
	if ok && now.Sub(k.start) < st.window {
		k.dropped++
		if k.timer == nil {
			k.timer = time.AfterFunc(k.start.Add(st.window).Sub(now), func() { st.flush(key, k) })
		}
		st.mu.Unlock()
		return nil
	}
	var ended *kind // a window that ended before its timer wrote the count
	if ok && k.timer != nil && !k.flushed {
		k.timer.Stop()
		k.flushed = true
		ended = k
	}
	delete(st.kinds, key)
	if len(st.kinds) >= st.maxKinds {
		st.sweep(now)
	}
	if len(st.kinds) < st.maxKinds {
		st.kinds[key] = &kind{start: now, first: r.Clone(), h: h.inner}
	}
	st.mu.Unlock()
	if ended != nil {
		st.summarize(ended)
	}
	return h.inner.Handle(ctx, r)
}

// Close writes a summary for every kind with records left out and stops
// limiting: records logged afterwards pass. It is safe to call more than
// once.
func (h *Handler) Close() {
	st := h.st
	st.mu.Lock()
	st.closed = true
	var pending []*kind
	for key, k := range st.kinds {
		delete(st.kinds, key)
		if k.timer != nil && !k.flushed {
			k.timer.Stop()
			k.flushed = true
			pending = append(pending, k)
		}
	}
	st.mu.Unlock()
	for _, k := range pending {
		st.summarize(k)
	}
}

// flush ends k's window: it forgets k and writes its summary, unless
// Close took it first.
func (st *state) flush(key uint64, k *kind) {
	st.mu.Lock()
	if k.flushed {
		st.mu.Unlock()
		return
	}
	k.flushed = true
	if st.kinds[key] == k {
		delete(st.kinds, key)
	}
	st.mu.Unlock()
	st.summarize(k)
}

// sweep forgets kinds whose window ended with nothing left out; those with
// a pending summary go when their timer fires.
func (st *state) sweep(now time.Time) {
	for key, k := range st.kinds {
		if k.timer == nil && now.Sub(k.start) >= st.window {
			delete(st.kinds, key)
		}
	}
}

// summarize writes the record that passed again, with how many identical
// ones were left out since and over how long.
func (st *state) summarize(k *kind) {
	if k.dropped == 0 {
		return
	}
	now := st.now()
	r := slog.NewRecord(now, k.first.Level, k.first.Message, 0)
	k.first.Attrs(func(a slog.Attr) bool {
		r.AddAttrs(a)
		return true
	})
	r.AddAttrs(slog.Int(CountKey, k.dropped), slog.Duration("over", now.Sub(k.start).Round(time.Millisecond)))
	_ = k.h.Handle(context.Background(), r) // nowhere to report a failing log
}

// key identifies r's kind: level, message and attributes but durations
// and times, on top of the handler's own attributes.
func (h *Handler) key(r slog.Record) uint64 {
	var mh maphash.Hash
	mh.SetSeed(h.st.seed)
	writeUint(&mh, h.prefix)
	writeUint(&mh, uint64(int64(r.Level)))
	mh.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		hashAttr(&mh, a)
		return true
	})
	return mh.Sum64()
}

func hashAttr(mh *maphash.Hash, a slog.Attr) {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindDuration, slog.KindTime:
		return // differ on every request; not what makes records alike
	}
	mh.WriteString("\x00")
	mh.WriteString(a.Key)
	mh.WriteString("=")
	switch v.Kind() {
	case slog.KindGroup:
		for _, g := range v.Group() {
			hashAttr(mh, g)
		}
	case slog.KindInt64:
		writeUint(mh, uint64(v.Int64()))
	case slog.KindUint64:
		writeUint(mh, v.Uint64())
	case slog.KindFloat64:
		writeUint(mh, math.Float64bits(v.Float64()))
	case slog.KindBool:
		if v.Bool() {
			mh.WriteString("t")
		}
	default:
		mh.WriteString(v.String())
	}
}

func writeUint(mh *maphash.Hash, x uint64) {
	var b [8]byte
	for i := range b {
		b[i] = byte(x >> (8 * i))
	}
	mh.Write(b[:])
}
