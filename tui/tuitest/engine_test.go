package tuitest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/core/engine/enginetest"
	"github.com/auditrelay/auditrelay/core/source"
)

// realEngine runs the real engine on a temporary SQLite store with local
// sinks, and fills it so every flow has its data: a delivery that failed
// (400) and will succeed when retried, a plain form variable, an editable
// template, and entries of two kinds.
func realEngine(t *testing.T) Fixture {
	t.Helper()
	var healthy atomic.Bool
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if healthy.Load() {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusBadRequest) // not retried: the delivery fails at once
	}))
	t.Cleanup(sink.Close)
	chat := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	t.Cleanup(chat.Close)

	eng := enginetest.Start(t, fmt.Sprintf(`  - name: archive
    integration: webhook
    vars:
      url: %s/archive
  - name: chat
    integration: slack
    vars:
      webhookUrl: %s/slack
`, sink.URL, chat.URL), nil)

	entries := []struct{ id, kind, res, action string }{
		{"t1", "project", "proj/shop", "createProject"},
		{"t2", "flag", "proj/shop:env/production:flag/checkout", "updateOn"},
		{"t3", "flag", "proj/shop:env/production:flag/banner", "updateOn"},
	}
	for _, e := range entries {
		raw := fmt.Sprintf(`{"_id":%q,"date":%d,"kind":%q,"name":"%s","title":"[Maya](mailto:maya@example.com) changed %s","accesses":[{"action":%q,"resource":%q}],"member":{"_id":"m1","email":"maya@example.com","firstName":"Maya","lastName":"Okafor"}}`,
			e.id, time.Now().UnixMilli(), e.kind, e.id, e.id, e.action, e.res)
		if _, err := eng.Ingest(context.Background(), []source.Item{{Raw: []byte(raw), Source: "test"}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	failed := engine.DeliveryID("archive", "t3")
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := eng.Delivery(context.Background(), failed)
		if err == nil && d.State == api.Failed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %s did not fail: %+v %v", failed, d.DeliveryView, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The other two failed as well; only t3's will be retried by the flow,
	// and the endpoint is healthy from now on.
	healthy.Store(true)
	return Fixture{
		API:                  eng,
		FailedDelivery:       failed,
		FailedSubscription:   "archive",
		FormSubscription:     "archive",
		FormField:            "url",
		FormValue:            sink.URL + "/archive-v2",
		TemplateSubscription: "chat",
		FilterKind:           "project",
		Timeout:              15 * time.Second,
	}
}

func TestFlowsOnTheRealEngine(t *testing.T) {
	t.Run("retry", func(t *testing.T) { RetryFailedDelivery(t, realEngine(t)) })
	t.Run("form", func(t *testing.T) { EditFormVariable(t, realEngine(t)) })
	t.Run("template", func(t *testing.T) { EditTemplateWithPreview(t, realEngine(t)) })
	t.Run("filter", func(t *testing.T) { FilterEvents(t, realEngine(t)) })
}

// TestTemplateEditorWarnsNestedIteration: on the real engine, typing a
// loop over the tags inside a loop over the tags into the template editor
// shows the engine's warning in the preview, with its line and column.
func TestTemplateEditorWarnsNestedIteration(t *testing.T) {
	fx := realEngine(t)
	fx.Width, fx.Height = 200, 40
	c := Start(t, fx)
	c.SelectSubscription(fx.TemplateSubscription)
	c.Type("t")
	c.WaitText("Templates · " + fx.TemplateSubscription)
	c.WaitFor("the first preview", func(s string) bool {
		return strings.Contains(s, "POST ") || strings.Contains(s, "nothing would be sent")
	})
	c.Type("{{#each tags}}{{#each ../tags}}{{this}}{{/each}}{{/each}}")
	// The preview wraps the message at its width.
	c.WaitFor("the nested-iteration warning", func(s string) bool {
		return strings.Contains(s, "! 1:23 warning: lint (templates.default, sample flag context): nested iteration over the") &&
			strings.Contains(s, "same array: tags is already iterated by the loop at 1:9")
	})
	c.Press(tea.KeyEsc)
	c.WaitText("discard unsaved edits")
	c.Type("y")
	c.WaitText("1 Events")
}

// TestDeliveryDetailsShowTheStoredRequest: on the real engine, a
// delivery's details show the request its attempt sent, labelled with the
// attempt's time and versions; after the form values change, d shows the
// diff against what would be sent now.
func TestDeliveryDetailsShowTheStoredRequest(t *testing.T) {
	fx := realEngine(t)
	fx.Width, fx.Height = 120, 46
	if err := fx.API.SaveForm(context.Background(), "tester", fx.FormSubscription, map[string]any{fx.FormField: fx.FormValue}); err != nil {
		t.Fatal(err)
	}
	c := Start(t, fx)
	c.SelectSubscription(fx.FailedSubscription)
	c.Press(tea.KeyEnter)
	c.WaitText("┃› ✗ failed")
	c.Press(tea.KeyEnter)
	s := c.WaitText("Request sent by attempt #1 at ")
	t.Logf("details:\n%s", s)
	for _, want := range []string{"standard payload · form values @ ", "X-Auditrelay-Attempt: 1", "/archive ", `"_id": "t`} {
		if !strings.Contains(s, want) {
			t.Errorf("details lack %q:\n%s", want, s)
		}
	}
	c.Type("d")
	s = c.WaitText("Diff: sent by attempt #1 → would send now")
	for _, want := range []string{"--- sent", "+++ would send now", "/archive-v2"} {
		if !strings.Contains(s, want) {
			t.Errorf("diff view lacks %q:\n%s", want, s)
		}
	}
	t.Logf("capture:\n%s", s)
}

// TestConnectionTestOnAStandardPayloadSubscription: v on a webhook
// subscription (LaunchDarkly's standard payload, no validation template)
// sends the sample flag-toggle entry; the status line and the result say
// the same.
func TestConnectionTestOnAStandardPayloadSubscription(t *testing.T) {
	fx := realEngine(t)
	c := Start(t, fx)
	c.SelectSubscription("archive")
	c.Type("v")
	s := c.WaitText("Connection test · archive")
	s = c.WaitFor("the status line", func(s string) bool { return strings.Contains(Footer(s), "test of archive: ") })
	for _, want := range []string{"✓ endpoint answered 200 OK in ", "Request sent (sample flag-toggle entry)", `"_id": "auditrelay-connection-test"`} {
		if !strings.Contains(s, want) {
			t.Errorf("result lacks %q:\n%s", want, s)
		}
	}
	if f := Footer(s); !strings.Contains(f, "endpoint answered 200 OK in ") {
		t.Errorf("status line %q disagrees with the result", f)
	}
}

// TestRetryFailedSinceOnTheRealEngine: R with a range on the real engine
// counts the subscription's deliveries that failed in it, declining
// leaves them failed, and yes retries them through Resend.
func TestRetryFailedSinceOnTheRealEngine(t *testing.T) {
	fx := realEngine(t)
	c := Start(t, fx)
	c.SelectSubscription("archive")
	// R asks only when the pane shows failed deliveries.
	c.WaitFor("archive's 3 failed deliveries", func(s string) bool {
		return regexp.MustCompile(`archive +0 +3 `).MatchString(s)
	})
	c.Type("R")
	c.WaitText("retry failed deliveries of archive since all")
	c.Press(tea.KeyCtrlU)
	c.Type("1h")
	c.Press(tea.KeyEnter)
	s := c.WaitText("(y/N)")
	if f := Footer(s); !strings.Contains(f, "retry 3 failed deliveries of archive (failed in the last 1h)?") {
		t.Fatalf("prompt %q", f)
	}
	c.Type("n")
	c.WaitText("cancelled")
	ctx := context.Background()
	ids := []string{engine.DeliveryID("archive", "t1"), engine.DeliveryID("archive", "t2"), engine.DeliveryID("archive", "t3")}
	for _, id := range ids {
		if d, err := fx.API.Delivery(ctx, id); err != nil || d.State != api.Failed {
			t.Fatalf("after no, %s is %s (%v), want failed", id, d.State, err)
		}
	}
	c.Type("R")
	c.WaitText("retry failed deliveries of archive since all")
	c.Press(tea.KeyCtrlU)
	c.Type("1h")
	c.Press(tea.KeyEnter)
	c.WaitText("(y/N)")
	c.Type("y")
	c.WaitText("retrying 3 deliveries of archive that failed in the last 1h")
	deadline := time.Now().Add(fx.Timeout)
	for _, id := range ids {
		for {
			d, err := fx.API.Delivery(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if d.State == api.Delivered {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s is %s after the retry", id, d.State)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
