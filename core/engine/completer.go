package engine

import (
	"context"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

// The completer records attempt outcomes in batches. A worker hands its
// outcome over and takes the next delivery at once instead of waiting for
// a commit: with one commit per outcome, a subscription's throughput was
// its concurrency divided by the commit latency. An outcome waiting here is
// not yet durable; if the process dies first, the delivery's lease expires
// and it is attempted again (at-least-once, same delivery id).
const (
	completerQueue = 4096 // outcomes waiting; a full queue blocks workers (backpressure)
	completerBatch = 512  // outcomes per Finish call
)

type finished struct {
	sub string
	c   store.Claimed
	out store.Outcome
}

// complete queues an outcome, blocking while the queue is full.
func (e *Engine) complete(sub string, c store.Claimed, out store.Outcome) {
	if ent, _, err := e.sub(sub); err == nil {
		ent.finishing.Add(1)
	}
	e.outcomes <- finished{sub: sub, c: c, out: out}
}

// runCompleter commits queued outcomes until the queue is closed and empty.
func (e *Engine) runCompleter() {
	batch := make([]finished, 0, completerBatch)
	outs := make([]store.Outcome, 0, completerBatch)
	for first := range e.outcomes {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < completerBatch {
			select {
			case f, ok := <-e.outcomes:
				if !ok {
					break fill
				}
				batch = append(batch, f)
			default:
				break fill
			}
		}
		outs = outs[:0]
		for _, f := range batch {
			outs = append(outs, f.out)
		}
		e.commitOutcomes(batch, outs)
	}
}

func (e *Engine) commitOutcomes(batch []finished, outs []store.Outcome) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var res store.FinishResult
	var err error
	for try, wait := 0, 50*time.Millisecond; try < 5; try, wait = try+1, wait*2 {
		if res, err = e.st.Finish(ctx, outs); err == nil {
			break
		}
		e.log.Error("recording delivery outcomes; retrying", "count", len(outs), "err", err)
		time.Sleep(wait)
	}
	for _, f := range batch {
		if ent, _, serr := e.sub(f.sub); serr == nil {
			ent.finishing.Add(-1)
		}
	}
	if err != nil {
		e.log.Error("delivery outcomes lost; their leases expire and they are attempted again", "count", len(outs), "err", err)
		return
	}
	stale := make(map[string]bool, len(res.Stale))
	for _, id := range res.Stale {
		stale[id] = true
	}
	for _, f := range batch {
		if stale[f.out.DeliveryID] {
			e.log.Warn("delivery outcome ignored: the lease was lost to another worker", "subscription", f.sub, "delivery", f.out.DeliveryID)
			continue
		}
		e.afterFinish(ctx, f.sub, f.c, f.out)
	}
}
