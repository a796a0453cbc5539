package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/feed"
	"github.com/auditrelay/auditrelay/tui/internal/panes/header"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// Tail prints the engine's live events to w, one line each, until ctx ends
// or the engine stops: for when stdout is not a terminal (pipes, CI, ssh
// without a PTY). An entry prints a line and one line per policy decision;
// a delivery prints its new state, or the attempt that produced it. With
// jsonLines each line is a JSON object instead ({"type":"entry",...}).
//
// A slow reader never slows the engine: the feed drops what w cannot take
// and Tail reports how many were lost.
func Tail(ctx context.Context, api api.API, w io.Writer, jsonLines bool) error {
	f := api.Subscribe(ctx, feed.DefaultBuffer)
	var reported uint64
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-f.C:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("tail: the engine's live feed ended")
			}
			var err error
			if jsonLines {
				err = writeJSON(w, ev)
			} else {
				err = writePlain(w, ev)
			}
			if d := f.Dropped(); d > reported && err == nil {
				err = writeDropped(w, d-reported, jsonLines)
				reported = d
			}
			if err != nil {
				return fmt.Errorf("tail: write: %w", err)
			}
		}
	}
}

func writeDropped(w io.Writer, n uint64, jsonLines bool) error {
	if jsonLines {
		_, err := fmt.Fprintf(w, "{\"type\":\"dropped\",\"count\":%d}\n", n)
		return err
	}
	_, err := fmt.Fprintf(w, "# dropped %d events: the reader was too slow\n", n)
	return err
}

// tailRecord is the JSON shape of one tail line.
type tailRecord struct {
	Type         string                `json:"type"`
	Seq          uint64                `json:"seq"`
	Time         time.Time             `json:"time"`
	Entry        *api.EntryView        `json:"entry,omitempty"`
	Delivery     *api.DeliveryView     `json:"delivery,omitempty"`
	Attempt      *api.AttemptView      `json:"attempt,omitempty"`
	Subscription *api.SubscriptionInfo `json:"subscription,omitempty"`
	Action       any                   `json:"action,omitempty"`
}

func kindName(k api.EventKind) string {
	switch k {
	case api.EntryReceived:
		return "entry"
	case api.DeliveryUpdated:
		return "delivery"
	case api.SubscriptionUpdated:
		return "subscription"
	case api.ActionRecorded:
		return "action"
	}
	return "event-" + strconv.Itoa(int(k))
}

func writeJSON(w io.Writer, ev api.Event) error {
	rec := tailRecord{Type: kindName(ev.Kind), Seq: ev.Seq, Time: ev.Time, Entry: ev.Entry,
		Delivery: ev.Delivery, Attempt: ev.Attempt, Subscription: ev.Subscription}
	if ev.Action != nil {
		rec.Action = ev.Action
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func writePlain(w io.Writer, ev api.Event) error {
	var b strings.Builder
	ts := ev.Time.Format(time.RFC3339)
	line := func(kind string, fields ...string) {
		b.WriteString(ts)
		b.WriteByte(' ')
		b.WriteString(fmt.Sprintf("%-12s", kind))
		for _, f := range fields {
			if f == "" {
				continue
			}
			b.WriteByte(' ')
			b.WriteString(f)
		}
		b.WriteByte('\n')
	}
	switch {
	case ev.Entry != nil:
		e := ev.Entry
		sent := 0
		for _, d := range e.Decisions {
			if d.Sent {
				sent++
			}
		}
		line("entry", e.ID, e.Kind, strconv.Quote(e.Title), e.Member, where(e.Project, e.Environment),
			fmt.Sprintf("sent=%d/%d", sent, len(e.Decisions)))
		for _, d := range e.Decisions {
			verdict := "filtered"
			if d.Sent {
				verdict = "sent"
			}
			line("decision", e.ID, d.Subscription, verdict, strconv.Quote(d.Summary))
		}
	case ev.Attempt != nil:
		a := ev.Attempt
		status := "no-response"
		if a.StatusCode > 0 {
			status = strconv.Itoa(a.StatusCode)
		}
		line("attempt", a.DeliveryID, a.Subscription, "#"+strconv.Itoa(a.Number), status,
			ui.Latency(a.Duration), quoteIf(a.Outcome), quoteIf(a.Error))
	case ev.Delivery != nil:
		d := ev.Delivery
		line("delivery", d.ID, d.Subscription, string(d.State), quoteIf(d.LastError))
	case ev.Subscription != nil:
		s := ev.Subscription
		state := "active"
		switch {
		case s.Disabled:
			state = "disabled"
		case s.Paused:
			state = "paused"
		}
		line("subscription", s.Name, state, quoteIf(s.Reason))
	case ev.Action != nil:
		line("action", strconv.Quote(header.Describe(*ev.Action)), quoteIf(ev.Action.Detail))
	default:
		line(kindName(ev.Kind))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func quoteIf(s string) string {
	if s == "" {
		return ""
	}
	return strconv.Quote(s)
}

func where(proj, env string) string {
	switch {
	case proj != "" && env != "":
		return proj + "/" + env
	case proj != "":
		return proj
	}
	return env
}
