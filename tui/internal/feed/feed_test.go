package feed

import (
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/engine/api"
)

func feedOf(events ...api.Event) (chan api.Event, *api.Feed) {
	c := make(chan api.Event, 16)
	for _, e := range events {
		c <- e
	}
	dropped := uint64(7)
	return c, api.NewFeed(c, func() uint64 { return dropped })
}

func TestBatchCoalescesBufferedEvents(t *testing.T) {
	_, f := feedOf(api.Event{Seq: 1}, api.Event{Seq: 2}, api.Event{Seq: 3})
	msg := New(f, 20*time.Millisecond, 0).Next()().(BatchMsg)
	if len(msg.Events) != 3 || msg.Events[0].Seq != 1 || msg.Events[2].Seq != 3 {
		t.Fatalf("got %+v", msg.Events)
	}
	if msg.Dropped != 7 || msg.Closed {
		t.Fatalf("dropped=%d closed=%v", msg.Dropped, msg.Closed)
	}
}

func TestBatchIsCappedAndKeepsOrder(t *testing.T) {
	_, f := feedOf(api.Event{Seq: 1}, api.Event{Seq: 2}, api.Event{Seq: 3})
	// A long interval: only the cap can end the first batch quickly.
	b := New(f, time.Hour, 2)
	first := b.Next()().(BatchMsg)
	if len(first.Events) != 2 || first.Events[1].Seq != 2 {
		t.Fatalf("first batch %+v", first.Events)
	}
}

func TestBatchReportsClose(t *testing.T) {
	c, f := feedOf(api.Event{Seq: 1})
	close(c)
	b := New(f, time.Hour, 0)
	msg := b.Next()().(BatchMsg)
	if !msg.Closed || len(msg.Events) != 1 {
		t.Fatalf("want the last event and Closed, got %+v", msg)
	}
	if msg := b.Next()().(BatchMsg); !msg.Closed || len(msg.Events) != 0 {
		t.Fatalf("after close: %+v", msg)
	}
}
