package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nestedTemplate prints every tag once per tag: 20,000 tags make 400
// million iterations and, unbounded, gigabytes of output.
const nestedTemplate = "{\"text\": \"{{#each tags}}{{#each ../tags}}{{this}};{{/each}}{{/each}}\"}\n"

// taggedEntry is a flag entry whose flag has n tags (about 7 bytes each).
func taggedEntry(id string, n int) []byte {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = fmt.Sprintf("%q", fmt.Sprintf("t%d", i))
	}
	return []byte(fmt.Sprintf(`{"_id":%q,"date":1737540002113,"kind":"flag","name":"Tagged","title":"changed the flag",
"accesses":[{"action":"updateTags","resource":"proj/p:env/production:flag/tagged"}],
"member":{"_id":"m1","email":"maya@example.com","firstName":"Maya","lastName":"Okafor"},
"currentVersion":{"key":"tagged","tags":[%s]}}`, id, strings.Join(tags, ",")))
}

// nestedSub is a Slack subscription whose default template is the nested
// one, written where the engine reads overrides from.
func nestedSub(t *testing.T, name, url, extra string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "nested.json.hbs")
	if err := os.WriteFile(file, []byte(nestedTemplate), 0o600); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`  - name: %s
    integration: slack
    vars:
      webhookUrl: %s
    policy:
      - effect: allow
        resources: ["proj/*:env/*:flag/*"]
        actions: ["*"]
    templates:
      default: %s
%s`, name, url, file, extra)
}

// TestRenderBudgetFailsTheDelivery: a delivery whose render goes past the
// budget fails at once with the template, position and limit, is not
// retried, and the engine goes on delivering; a small entry through the
// same template is delivered.
func TestRenderBudgetFailsTheDelivery(t *testing.T) {
	s := newSink(t, nil)
	cfg := testConfig(t, nestedSub(t, "tags", s.URL, "")+
		nestedSub(t, "tags-small-budget", s.URL, "    render: {max_output: 1KiB}\n"))
	h := startEngine(t, cfg)

	h.ingest(taggedEntry("big", 20_000), taggedEntry("small", 3))
	d := h.waitState(DeliveryID("tags", "big"), Failed)
	if !strings.HasPrefix(d.Reason, "render failed, not retried: rendering ") ||
		!strings.Contains(d.Reason, "nested.json.hbs:1:42: the template produced more than 1 MiB of output (render budget); fix the template, or raise") {
		t.Fatalf("reason %q", d.Reason)
	}
	if len(d.Attempts) != 1 || d.Attempts[0].ErrorClass != "render" {
		t.Fatalf("attempts %+v, want one render attempt", d.Attempts)
	}
	// The subscription's own budget: 3 tags × 3 ("t0;t1;t2;" three times)
	// fit in 1 KiB, 20,000 do not.
	d = h.waitState(DeliveryID("tags-small-budget", "big"), Failed)
	if !strings.Contains(d.Reason, "more than 1 KiB of output") {
		t.Fatalf("small budget reason %q", d.Reason)
	}
	h.waitState(DeliveryID("tags", "small"), Delivered)
	h.waitState(DeliveryID("tags-small-budget", "small"), Delivered)
	_, bodies := s.received()
	for _, b := range bodies {
		if string(b) != `{"text": "t0;t1;t2;t0;t1;t2;t0;t1;t2;"}`+"\n" {
			t.Fatalf("sink got %q", b)
		}
	}
	if len(bodies) != 2 {
		t.Fatalf("sink got %d requests, want 2", len(bodies))
	}
}

// TestPreviewShowsBudgetAndNestedIteration: the template editor's preview
// warns about the nested loop at its line and column, and rendering it
// with the large entry shows the budget error instead of exhausting the
// server's memory.
func TestPreviewShowsBudgetAndNestedIteration(t *testing.T) {
	s := newSink(t, nil)
	h := startEngine(t, testConfig(t, nestedSub(t, "tags", s.URL, "")))
	h.ingest(taggedEntry("big", 20_000))
	h.waitState(DeliveryID("tags", "big"), Failed)

	p, err := h.eng.Preview(context.Background(), "tags", "default", nestedTemplate, "big")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, is := range p.Errors {
		got = append(got, fmt.Sprintf("%d:%d %s: %s", is.Line, is.Col, is.Severity, is.Msg))
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{
		"1:33 warning: lint (templates.default, sample flag context): nested iteration over the same array: tags is already iterated by the loop at 1:19",
		"1:42 error: the template produced more than 1 MiB of output (render budget)",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("preview issues lack %q:\n%s", want, joined)
		}
	}
	// The sample entry renders: the warning stays, and the body is there.
	p, err = h.eng.Preview(context.Background(), "tags", "default", nestedTemplate, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Errors) != 1 || p.Errors[0].Severity != "warning" || !strings.Contains(p.Request.Body, "payments;") {
		t.Fatalf("preview with the sample: %+v", p)
	}
}
