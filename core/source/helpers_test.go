package source_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/source"
	"github.com/auditrelay/auditrelay/core/store"
)

// memStore is an in-memory Ingester and CursorStore that records what it
// was given. Like the engine, it answers an item's Err as its result, takes
// the item's Entry when the source decoded it, else decodes Raw with the
// real decoder, and deduplicates by _id; the real store is tested in
// core/store.
type memStore struct {
	mu      sync.Mutex
	ids     map[string]bool
	order   []string       // new entries' ids, in the order stored
	passed  map[string]int // how many times each id was handed to Ingest
	calls   int            // Ingest calls
	cursors map[string]store.Cursor
	history []string          // cursor positions committed, in order
	failing error             // when set, Ingest fails with it
	getErrs int               // GetCursor fails this many more times
	raws    map[string][]byte // new entries' bytes
	notes   map[string]string // Item.ListItem of new entries that had one
	getErr  error             // when set, GetEntry fails with it
}

func newMemStore() *memStore {
	return &memStore{ids: map[string]bool{}, passed: map[string]int{}, cursors: map[string]store.Cursor{},
		raws: map[string][]byte{}, notes: map[string]string{}}
}

func (m *memStore) Ingest(ctx context.Context, items []source.Item, cursor *store.Cursor) ([]source.Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.failing != nil {
		return nil, m.failing
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]source.Result, len(items))
	for i, it := range items {
		if it.Err != nil {
			out[i] = source.Result{Err: it.Err}
			continue
		}
		e := it.Entry
		if e == nil {
			var err error
			if e, err = auditlog.DecodeEntry(bytes.Clone(it.Raw)); err != nil {
				out[i] = source.Result{Err: err}
				continue
			}
		}
		m.passed[e.ID]++
		out[i].ID = e.ID
		if m.ids[e.ID] {
			out[i].Duplicate = true
			continue
		}
		m.ids[e.ID] = true
		m.order = append(m.order, e.ID)
		m.raws[e.ID] = bytes.Clone(it.Raw)
		if it.ListItem != "" {
			m.notes[e.ID] = it.ListItem
		}
	}
	if cursor != nil {
		m.cursors[cursor.Source] = *cursor
		m.history = append(m.history, cursor.Position)
	}
	return out, nil
}

func (m *memStore) GetCursor(ctx context.Context, src string) (store.Cursor, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.getErrs > 0 {
		m.getErrs--
		return store.Cursor{}, errors.New("database is locked")
	}
	c, ok := m.cursors[src]
	if !ok {
		return store.Cursor{}, fmt.Errorf("cursor %s: %w", src, store.ErrNotFound)
	}
	return c, nil
}

// GetEntry makes memStore a source.EntryGetter: only the id is filled in.
func (m *memStore) GetEntry(ctx context.Context, id string) (store.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.getErr != nil {
		return store.Entry{}, m.getErr
	}
	if !m.ids[id] {
		return store.Entry{}, fmt.Errorf("entry %s: %w", id, store.ErrNotFound)
	}
	return store.Entry{EntrySummary: store.EntrySummary{ID: id}}, nil
}

func (m *memStore) raw(id string) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.raws[id]
}

func (m *memStore) note(id string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.notes[id]
}

func (m *memStore) setFailing(err error) {
	m.mu.Lock()
	m.failing = err
	m.mu.Unlock()
}

func (m *memStore) stored() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.order...)
}

func (m *memStore) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.order)
}

// repeats lists ids handed to Ingest more than once.
func (m *memStore) repeats() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for id, n := range m.passed {
		if n > 1 {
			out = append(out, fmt.Sprintf("%s×%d", id, n))
		}
	}
	return out
}

// entryJSON is a valid REST audit-log entry.
func entryJSON(id string, date int64) []byte {
	return fmt.Appendf(nil, `{"_links":{"self":{"href":"/api/v2/auditlog/%[1]s","type":"application/json"}},"_id":%[1]q,"_accountId":"acc","date":%[2]d,`+
		`"accesses":[{"action":"updateOn","resource":"proj/default:env/production:flag/f-%[1]s"}],"kind":"flag","name":"Flag %[1]s",`+
		`"title":"turned on the flag","titleVerb":"turned on the flag","target":{"name":"Flag %[1]s","resources":["proj/default:env/production:flag/f-%[1]s"]}}`, id, date)
}

// eventually waits (up to a generous deadline) for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a
// server's logger.
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

func storeCursor(src, pos string) store.Cursor {
	return store.Cursor{Source: src, Position: pos, UpdatedAt: time.Now()}
}
