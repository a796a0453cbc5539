// Package source brings LaunchDarkly audit-log entries into auditrelay: an
// HTTP receiver for LaunchDarkly webhooks, a poller for the REST audit-log
// API, and a reader for replay files. Every source hands entries to an
// Ingester (the engine) and acknowledges them only after Ingest returned,
// that is, after they are durable.
package source

import (
	"context"

	"github.com/auditrelay/auditrelay/core/auditlog"
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
	// Entry is the entry decoded from Raw (Entry.Raw is Raw) when the
	// source decoded it already, as the replay reader does: an Ingester
	// uses it rather than decode Raw again. nil when the source left the
	// decoding to the Ingester.
	Entry *auditlog.Entry
	// Err is set when the source found the item is not a valid entry: an
	// *auditlog.DecodeError positioned in the source's input (a replay
	// file, a list page), or a *PositionError for an entry a replay file
	// holds that is too large. Raw then holds what was read, or nothing;
	// the Ingester returns Err as the item's Result and stores nothing.
	Err error
	// ListItem is set when Raw is a list item of GET /api/v2/auditlog
	// rather than the full entry (no currentVersion, previousVersion or
	// delta), and says why: the full entry was gone, or was not fetched.
	// Templates that read the resource's current version render without
	// it; the stored entry keeps the note.
	ListItem string
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
