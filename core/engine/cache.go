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

type eventCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // front = most recent; values are *cacheItem
	items map[string]*list.Element
}

type cacheItem struct {
	id string
	ev *hook.Event
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
	if el, ok := c.items[id]; ok {
		el.Value.(*cacheItem).ev = ev
		c.order.MoveToFront(el)
		return
	}
	c.items[id] = c.order.PushFront(&cacheItem{id: id, ev: ev})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*cacheItem).id)
	}
}
