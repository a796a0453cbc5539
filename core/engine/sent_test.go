package engine

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestStoredRequestIsWhatWasSent: a delivery's first attempt keeps the
// request the endpoint received, byte for byte, after the subscription's
// template and form values changed; the diff says what would be sent now.
func TestStoredRequestIsWhatWasSent(t *testing.T) {
	s := newSink(t, nil)
	cfg := testConfig(t, "  - name: chat\n    integration: slack\n    vars:\n      webhookUrl: "+s.URL+"/hooks/first-secret-path\n")
	h := startEngine(t, cfg)
	ctx := context.Background()

	h.ingest(entryJSON("e1", "updateOn", "proj/checkout:env/production:flag/new-checkout"))
	id := DeliveryID("chat", "e1")
	h.waitState(id, Delivered)

	// Change the template and the form values.
	orig := templateInfo(t, h.eng, "chat", "default")
	if _, err := h.eng.SaveTemplate(ctx, "alice", "chat", "default", `{"text": "edited {{{title.plainText}}}"}`, orig.Hash); err != nil {
		t.Fatal(err)
	}
	if err := h.eng.SaveForm(ctx, "alice", "chat", map[string]any{"webhookUrl": s.URL + "/hooks/second-secret-path"}); err != nil {
		t.Fatal(err)
	}

	d, err := h.eng.Delivery(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	reqs, bodies := s.received()
	if len(reqs) != 1 || len(d.Attempts) != 1 {
		t.Fatalf("sink got %d requests, delivery has %d attempts; want 1 and 1", len(reqs), len(d.Attempts))
	}
	sent := d.Attempts[0].Sent
	if sent == nil {
		t.Fatal("the attempt kept no request")
	}
	if sent.Body != string(bodies[0]) || !bytes.Equal([]byte(sent.Body), bodies[0]) {
		t.Fatalf("stored body differs from what the sink received:\nstored   %q\nreceived %q", sent.Body, bodies[0])
	}
	if sent.Method != reqs[0].Method || sent.TemplateHash != orig.Hash || sent.Template == "" || sent.VarsHash == "" {
		t.Errorf("stored request = %+v; want method %s, template hash %s", sent, reqs[0].Method, orig.Hash)
	}
	// Every header the sink received (but those net/http adds) is stored
	// with its value.
	stored := http.Header{}
	for _, hd := range sent.Headers {
		stored.Add(hd.Name, hd.Value)
	}
	for name, vals := range reqs[0].Header {
		if name == "Content-Length" || name == "Accept-Encoding" {
			continue
		}
		if got := stored.Values(name); strings.Join(got, ",") != strings.Join(vals, ",") {
			t.Errorf("header %s: stored %q, received %q", name, got, vals)
		}
	}
	// The URL came from a secret form variable: masked at rest.
	if strings.Contains(sent.URL, "first-secret-path") {
		t.Errorf("stored URL %q shows the secret", sent.URL)
	}
	// What would be sent now differs in the body, the template and the
	// form values; the diff says so.
	for _, want := range []string{"--- sent", "+++ would send now", `+  "text": "edited `, "-template ", "+template ", "-form values @ " + sent.VarsHash} {
		if !strings.Contains(sent.Diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, sent.Diff)
		}
	}
	t.Logf("diff:\n%s", sent.Diff)
	if strings.Contains(sent.Diff, "secret-path") {
		t.Errorf("diff shows a secret:\n%s", sent.Diff)
	}
}
