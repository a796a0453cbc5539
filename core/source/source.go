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
