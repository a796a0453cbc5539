package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/mask"
	"github.com/auditrelay/auditrelay/core/store"
)

// testSentRequest: every attempt gives back the request it sent, byte for
// byte, whether its body was stored with it, compressed, or kept once for
// the delivery by an earlier attempt; and retention prunes it with the
// delivery.
func testSentRequest(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	b.ingestN(t, "e", "hook", 1)
	// A body that compresses, one too small to, and none.
	big := []byte(`{"text":"` + strings.Repeat("flag toggled by alice ", 200) + `"}`)
	small := []byte(`{"text":"hi \u00e9 \x00"}`)
	headers := []store.Header{{Name: "Content-Type", Value: "application/json"}, {Name: "Authorization", Value: "Bearer " + mask.Masked}, {Name: "X-Auditrelay-Attempt", Value: "1"}}
	sent := []*store.SentRequest{
		store.NewSentRequest("POST", headers, big, "vars-v1"),
		store.NewSentRequest("POST", headers, big, "vars-v1"), // the usual retry: same body
		store.NewSentRequest("PUT", nil, small, "vars-v2"),
		nil, // no request made (a render failure)
		store.NewSentRequest("POST", headers, []byte{}, "vars-v2"),
		store.NewSentRequest("POST", headers, big, "vars-v1"),
	}
	if sent[0].BodyEncoding != store.BodyDeflate || len(sent[0].Body) >= len(big) {
		t.Fatalf("a repetitive body of %d bytes stored as %q in %d bytes, want deflate and smaller", len(big), sent[0].BodyEncoding, len(sent[0].Body))
	}
	if sent[2].BodyEncoding != store.BodyPlain {
		t.Fatalf("a %d-byte body stored as %q, want plain", len(small), sent[2].BodyEncoding)
	}
	var id string
	for i, r := range sent {
		c := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "w"}).Claimed[0]
		id = c.ID
		rec := &store.Attempt{StatusCode: 503, URL: "https://hooks.example.com/x", Template: "flag.json.hbs", TemplateHash: fmt.Sprint("hash", i), Request: r}
		b.finish(t, store.Outcome{DeliveryID: c.ID, Subscription: c.Subscription, Owner: "w", Attempt: c.Attempts, State: store.Failed, Record: rec})
		if i == len(sent)-1 {
			break
		}
		if _, err := b.s.Retry(b.ctx, store.RetryParams{DeliveryID: c.ID}); err != nil {
			t.Fatalf("Retry: %v", err)
		}
	}
	_, as := b.delivery(t, id)
	if len(as) != len(sent) {
		t.Fatalf("attempts = %d, want %d", len(as), len(sent))
	}
	wantBodies := [][]byte{big, big, small, nil, {}, big}
	for i, a := range as {
		want := sent[i]
		if want == nil {
			if a.Request != nil {
				t.Fatalf("attempt %d: Request = %+v, want nil", a.Number, a.Request)
			}
			continue
		}
		got := a.Request
		if got == nil {
			t.Fatalf("attempt %d: no Request", a.Number)
		}
		if got.BodyError != "" || !bytes.Equal(got.Body, wantBodies[i]) || got.Body == nil {
			t.Fatalf("attempt %d: body = %q (error %q), want %q", a.Number, got.Body, got.BodyError, wantBodies[i])
		}
		if got.Method != want.Method || got.VarsHash != want.VarsHash || got.BodyDigest != want.BodyDigest ||
			got.BodySize != len(wantBodies[i]) || got.BodyEncoding != store.BodyPlain {
			t.Fatalf("attempt %d: request = %+v, want %+v", a.Number, got, want)
		}
		if len(got.Headers) != len(want.Headers) {
			t.Fatalf("attempt %d: headers = %v, want %v", a.Number, got.Headers, want.Headers)
		}
		for j := range want.Headers {
			if got.Headers[j] != want.Headers[j] {
				t.Fatalf("attempt %d: headers = %v, want %v", a.Number, got.Headers, want.Headers)
			}
		}
		if a.TemplateHash != fmt.Sprint("hash", i) {
			t.Fatalf("attempt %d: template hash %q", a.Number, a.TemplateHash)
		}
	}

	// Retention takes the stored requests with the delivery.
	b.clock.Advance(48 * time.Hour)
	res := b.prune(t, store.PruneParams{Now: b.clock.Now(), MaxAge: time.Hour, FailedMaxAge: time.Hour})
	if res.Attempts != len(sent) {
		t.Fatalf("prune removed %d attempts, want %d", res.Attempts, len(sent))
	}
	if _, _, err := b.s.GetDelivery(b.ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetDelivery after prune: %v, want ErrNotFound", err)
	}
}
