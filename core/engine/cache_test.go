package engine

import (
	"fmt"
	"testing"

	"github.com/auditrelay/auditrelay/core/hook"
	"github.com/auditrelay/auditrelay/core/jsonv"
)

// TestEventCacheBoundsBytes: the cache of decoded entries is bounded by
// what they hold as well as by count, so that a series of large entries
// cannot pile up (issue 13 D3: 40 entries of 1 MiB held 2.4 GB).
func TestEventCacheBoundsBytes(t *testing.T) {
	event := func(size int) *hook.Event {
		return hook.NewLazyEvent(make([]byte, size), "flag", func() jsonv.Value { return jsonv.Value{} })
	}
	c := newEventCache(eventCacheSize)
	for i := range 600 {
		c.put(fmt.Sprint("small", i), event(2<<10))
	}
	if n := c.order.Len(); n != eventCacheSize {
		t.Errorf("%d small events cached, want %d (the count bound)", n, eventCacheSize)
	}
	for i := range 10 {
		c.put(fmt.Sprint("big", i), event(1<<20))
		if c.bytes > eventCacheBytes {
			t.Fatalf("after %d large events the cache holds %d bytes, over %d", i+1, c.bytes, eventCacheBytes)
		}
	}
	if c.get("big9") == nil || c.get("big0") != nil || c.get("small599") != nil {
		t.Error("the most recent events should stay, the oldest go")
	}
	// One event over the whole budget is still kept: its deliveries are
	// about to use it.
	c.put("huge", event(eventCacheBytes))
	if c.get("huge") == nil || c.order.Len() != 1 {
		t.Errorf("huge event: cached %v, %d events", c.get("huge") != nil, c.order.Len())
	}
	total := 0
	for el := c.order.Front(); el != nil; el = el.Next() {
		total += el.Value.(*cacheItem).cost
	}
	if total != c.bytes {
		t.Errorf("bytes %d, items add up to %d", c.bytes, total)
	}
}
