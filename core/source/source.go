// Package source brings LaunchDarkly audit-log entries into auditrelay: an
// HTTP receiver for LaunchDarkly webhooks, a poller for the REST audit-log
// API, and a reader for replay files. Every source hands entries to an
// Ingester (the engine) and acknowledges them only after Ingest returned,
// that is, after they are durable.
package source

import (
	"context"

	"github.com/auditrelay/auditrelay/core/store"
)

// Item is one raw audit-log entry as a source received it.
type Item struct {
	Raw    []byte // the entry's exact JSON bytes
	Source string // "webhook", "poller", "replay", "demo"
	Ref    string // where it came from, for error messages: "line 12", "request 10.0.0.1"

	// Line and Col locate Raw's first byte in a replay file (1-based), so
	// that errors found in Raw can be reported at their place in the
	// file; 0 when the item did not come from a file.
	Line, Col int
	// Err is set when the source could not read the item as JSON (a
	// malformed line or array element). Raw then holds what was read, or
	// nothing; such an item must be reported as rejected and not ingested.
	Err error
}

// Result is the engine's verdict on one item.
type Result struct {
	ID        string // the entry's _id, when it could be read
	Duplicate bool   // already stored; nothing new happened
	Err       error  // the item was rejected (not a valid entry); nil when accepted or duplicate
}

// Ingester stores entries durably and decides their deliveries. It returns
// one Result per item, in order; a non-nil error means nothing was stored
// (the store is unavailable) and the source should answer so that the
// sender retries. cursor, when not nil, is committed with the entries.
type Ingester interface {
	Ingest(ctx context.Context, items []Item, cursor *store.Cursor) ([]Result, error)
}
