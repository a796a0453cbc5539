package engine

import (
	"container/list"
	"sync"

	"github.com/auditrelay/auditrelay/core/hook"
)

// eventCache keeps the template events of recent entries, so an entry is
// decoded and its context built once for all its deliveries, however many
// subscriptions render it. Bounded: least recently used entries go first.
// eventCacheSize bounds the cache: an entry's deliveries usually happen
// within moments of each other, so a small cache catches nearly all reuse,
// and a built context (tens of KB) must not pile up behind a backlog.
const eventCacheSize = 512

// eventCacheBytes bounds the memory the cached events hold, counted with
// eventCost. The count alone would not do: an entry of 1 MiB of small
// values decodes to up to ~20 MiB (see jsonv.Decode), and 512 of them,
// sent one after the other, would exhaust memory.
const eventCacheBytes = 64 << 20

// eventCost is what an event may hold: its decoded entry (at most ~20
// bytes per byte of JSON, about 5 for a real entry) and, once rendered, a
// context whose size follows the entry's.
func eventCost(ev *hook.Event) int { return 20*len(ev.Raw()) + 1<<10 }

type eventCache struct {
	mu    sync.Mutex
	max   int
	bytes int        // sum of the cached events' eventCost
	order *list.List // front = most recent; values are *cacheItem
	items map[string]*list.Element
}

type cacheItem struct {
	id   string
	ev   *hook.Event
	cost int
}

func newEventCache(max int) *eventCache {
	return &eventCache{max: max, order: list.New(), items: make(map[string]*list.Element, max)}
}

func (c *eventCache) get(id string) *hook.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[id]
	if !ok {
		return nil
	}
	c.order.MoveToFront(el)
	return el.Value.(*cacheItem).ev
}

func (c *eventCache) put(id string, ev *hook.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cost := eventCost(ev)
	if el, ok := c.items[id]; ok {
		it := el.Value.(*cacheItem)
		c.bytes += cost - it.cost
		it.ev, it.cost = ev, cost
		c.order.MoveToFront(el)
	} else {
		c.items[id] = c.order.PushFront(&cacheItem{id: id, ev: ev, cost: cost})
		c.bytes += cost
	}
	// The newest stays even alone over the budget: its deliveries are
	// about to use it.
	for c.order.Len() > c.max || (c.bytes > eventCacheBytes && c.order.Len() > 1) {
		last := c.order.Back()
		it := last.Value.(*cacheItem)
		c.order.Remove(last)
		delete(c.items, it.id)
		c.bytes -= it.cost
	}
}
