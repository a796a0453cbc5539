package source

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// pollCursor is the poller's position, stored as JSON in store.Cursor
// Position and committed with the entries it covers.
//
// Strategy: every poll asks for the entries dated From or later
// (after=From-1; "after" is exclusive) and skips those in Seen. Seen holds
// the ids of every ingested entry dated From or later, so:
//
//   - entries sharing a millisecond are never lost at a poll or page
//     boundary (asking for after=Max-1 would repeat them; asking for
//     after=Max would lose the ones LaunchDarkly had not yet listed), and
//     never ingested twice;
//   - an entry that becomes visible in the API a little after newer ones
//     (its date is earlier than Max) is still picked up as long as its date
//     is within the lookback window: From trails Max by Lookback.
//
// With Lookback 0 this is "newest date plus the ids at that millisecond".
// Seen is bounded by maxSeen; when it would grow past that, From moves up
// (whole milliseconds at a time) and the window shrinks.
type pollCursor struct {
	From int64            `json:"from"` // lower bound of the window, ms, inclusive
	Max  int64            `json:"max"`  // newest date ingested, ms
	Seen map[string]int64 `json:"seen"` // id → date of ingested entries dated From or later
}

const (
	cursorVersion = 1
	maxSeen       = 10_000
)

type cursorJSON struct {
	Version int `json:"v"`
	pollCursor
}

func (c pollCursor) encode() string {
	b, err := json.Marshal(cursorJSON{Version: cursorVersion, pollCursor: c})
	if err != nil {
		panic(fmt.Sprintf("encoding poller cursor: %v", err)) // a map of strings to ints always encodes
	}
	return string(b)
}

func decodeCursor(s string) (pollCursor, error) {
	var cj cursorJSON
	if err := json.Unmarshal([]byte(s), &cj); err != nil {
		return pollCursor{}, fmt.Errorf("poller cursor %q: %w", s, err)
	}
	if cj.Version != cursorVersion {
		return pollCursor{}, fmt.Errorf("poller cursor: version %d, this binary reads version %d", cj.Version, cursorVersion)
	}
	c := cj.pollCursor
	if c.Seen == nil {
		c.Seen = map[string]int64{}
	}
	return c, nil
}

func (c pollCursor) clone() pollCursor {
	c.Seen = maps.Clone(c.Seen)
	if c.Seen == nil {
		c.Seen = map[string]int64{}
	}
	return c
}

// advance returns the cursor after ingesting entries (any order).
func (c pollCursor) advance(entries []polled, lookback int64) pollCursor {
	n := c.clone()
	for _, e := range entries {
		if !e.dated {
			continue
		}
		n.Seen[e.id] = e.date
		n.Max = max(n.Max, e.date)
	}
	n.From = max(n.From, n.Max-lookback)
	if len(n.Seen) > maxSeen {
		// Raise From to the oldest millisecond that keeps Seen within
		// bounds, never splitting a millisecond.
		dates := slices.Sorted(maps.Values(n.Seen))
		cut := dates[len(dates)-maxSeen]
		if cut > n.From {
			n.From = cut
		}
	}
	for id, d := range n.Seen {
		if d < n.From {
			delete(n.Seen, id)
		}
	}
	return n
}
