// Package sorting is the lists' column sort, k9s style: a key per
// column (shift+letter), pressing it again toggles the direction. Every
// list pane, the store search and the palette share it, so the same key
// sorts the same column everywhere.
package sorting

import (
	"cmp"
	"strings"
	"time"

	"github.com/auditrelay/auditrelay/core/engine/api"
)

// Column is what an entry list may be sorted by; None is arrival order.
type Column int

// Columns.
const (
	None Column = iota
	Time
	Kind
	Status
	Title
	Member
	Where
	// The deliveries pane's own columns.
	Tries
	Code
	Latency
	Next
)

// Names, in column order, for titles and help.
var names = [...]string{None: "arrival", Time: "time", Kind: "kind", Status: "status", Title: "title", Member: "member", Where: "project/env",
	Tries: "tries", Code: "code", Latency: "latency", Next: "next retry"}

func (c Column) String() string {
	if c < 0 || int(c) >= len(names) {
		return "?"
	}
	return names[c]
}

// Order is a column and a direction.
type Order struct {
	Col  Column
	Desc bool
}

// Toggle returns the order after pressing col's key: a new column sorts
// ascending, the same column flips direction.
func (o Order) Toggle(col Column) Order {
	if o.Col == col {
		return Order{Col: col, Desc: !o.Desc}
	}
	return Order{Col: col}
}

// Label is "kind ↑" for titles, "" for arrival order.
func (o Order) Label() string {
	if o.Col == None {
		return ""
	}
	if o.Desc {
		return o.Col.String() + " ↓"
	}
	return o.Col.String() + " ↑"
}

// Compare orders a before b by o (0 when equal by the column: callers
// keep arrival order for ties).
func (o Order) Compare(a, b *api.EntryView) int {
	var c int
	switch o.Col {
	case Time:
		c = Received(a).Compare(Received(b))
	case Kind:
		c = strings.Compare(a.Kind, b.Kind)
	case Status:
		c = cmp.Compare(StatusRank(a), StatusRank(b))
	case Title:
		c = CompareFold(a.Title, b.Title)
	case Member:
		c = CompareFold(a.Member, b.Member)
	case Where:
		c = cmp.Or(strings.Compare(a.Project, b.Project), strings.Compare(a.Environment, b.Environment))
	}
	if o.Desc {
		return -c
	}
	return c
}

// Received is when the relay got e; its date when unknown.
func Received(e *api.EntryView) time.Time {
	if e.ReceivedAt.IsZero() {
		return e.Date
	}
	return e.ReceivedAt
}

// StatusRank puts entries needing attention first: a failed delivery,
// then work in progress, then delivered, then nothing sent.
func StatusRank(e *api.EntryView) int {
	rank := 3
	for _, d := range e.Decisions {
		switch d.State {
		case api.Failed:
			return 0
		case api.Pending, api.InFlight:
			rank = min(rank, 1)
		case api.Delivered:
			rank = min(rank, 2)
		}
	}
	return rank
}

// CompareFold compares ignoring ASCII case without allocating.
func CompareFold(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := lower(a[i]), lower(b[i])
		if x != y {
			return cmp.Compare(x, y)
		}
	}
	return cmp.Compare(len(a), len(b))
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
