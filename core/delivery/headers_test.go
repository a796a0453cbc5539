package delivery

import (
	"context"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDeliveryHeadersStableAcrossAttempts(t *testing.T) {
	rec := newRecorder(t, status(503), status(503), status(200))
	c := newTestClient(t, Options{})
	r := req(rec.URL + "/hook")
	r.Headers = append(r.Headers,
		Header{"X-Auditrelay-Attempt", "99"}, // a template must not spoof ours
		Header{"X-Custom", "one"}, Header{"X-Custom", "two"})
	for attempt := 1; attempt <= 3; attempt++ {
		r.Attempt = attempt
		c.Send(context.Background(), r)
	}
	got := rec.requests()
	if len(got) != 3 {
		t.Fatalf("server saw %d requests, want 3", len(got))
	}
	for i, s := range got {
		if id := s.header.Values(HeaderDeliveryID); len(id) != 1 || id[0] != r.DeliveryID {
			t.Errorf("attempt %d: %s = %q, want [%q]", i+1, HeaderDeliveryID, id, r.DeliveryID)
		}
		if a := s.header.Values(HeaderAttempt); len(a) != 1 || a[0] != strconv.Itoa(i+1) {
			t.Errorf("attempt %d: %s = %q, want [%d]", i+1, HeaderAttempt, a, i+1)
		}
		if ua := s.header.Get("User-Agent"); ua != "auditrelay/test" {
			t.Errorf("attempt %d: User-Agent %q", i+1, ua)
		}
		if v := s.header.Values("X-Custom"); strings.Join(v, ",") != "one,two" {
			t.Errorf("attempt %d: repeated header became %q", i+1, v)
		}
		if s.header.Get("Accept-Encoding") != "" {
			t.Errorf("attempt %d: Accept-Encoding %q sent; compression must stay off", i+1, s.header.Get("Accept-Encoding"))
		}
		if s.header.Get(HeaderWebhookSig) != "" {
			t.Errorf("attempt %d: webhook-signature sent without a signer", i+1)
		}
		if string(s.body) != string(r.Body) || s.method != "POST" || s.uri != "/hook" {
			t.Errorf("attempt %d: %s %s %q", i+1, s.method, s.uri, s.body)
		}
	}
}

func TestManifestUserAgentAndHostWin(t *testing.T) {
	rec := newRecorder(t)
	c := newTestClient(t, Options{})
	r := req(rec.URL)
	r.Method = "PUT"
	r.Headers = append(r.Headers, Header{"User-Agent", "LaunchDarkly/1.0"}, Header{"Host", "hooks.example.com"})
	res := c.Send(context.Background(), r)
	wantClass(t, res, ClassNone)
	s := rec.requests()[0]
	if s.header.Get("User-Agent") != "LaunchDarkly/1.0" || s.host != "hooks.example.com" || s.method != "PUT" {
		t.Errorf("got UA %q host %q method %s", s.header.Get("User-Agent"), s.host, s.method)
	}
	for _, h := range res.AddedHeaders {
		if h.Name == "User-Agent" {
			t.Errorf("AddedHeaders lists a User-Agent although the manifest set one")
		}
	}
}

// TestRequestDigestMatchesWire recomputes the digest from what the server
// received, so the digest provably covers the request as sent.
func TestRequestDigestMatchesWire(t *testing.T) {
	rec := newRecorder(t)
	c := newTestClient(t, Options{})
	signer, err := NewSWSigner(vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	r := req(rec.URL + "/hook?x=1")
	r.StandardWebhooks = signer
	r.Headers = append(r.Headers, Header{"X-Ld-Signature", "abc"}, Header{"X-Multi", "1"}, Header{"X-Multi", "2"})
	res1 := c.Send(context.Background(), r)
	r.Attempt = 2
	res2 := c.Send(context.Background(), r)

	for i, res := range []Result{res1, res2} {
		s := rec.requests()[i]
		var hs []Header
		for name, vals := range s.header {
			for _, v := range vals {
				hs = append(hs, Header{name, v})
			}
		}
		// Content-Length is derived from the body, not part of the digest.
		var filtered []Header
		for _, h := range hs {
			if !equalFold(h.Name, "Content-Length") {
				filtered = append(filtered, h)
			}
		}
		want := Digest(s.method, "http://"+s.host+s.uri, filtered, s.body)
		if res.RequestDigest != want || len(res.RequestDigest) != 64 {
			t.Errorf("attempt %d: RequestDigest %s, recomputed from the wire %s", i+1, res.RequestDigest, want)
		}
		names := map[string]bool{}
		for _, h := range res.AddedHeaders {
			names[h.Name] = true
			if got := s.header.Get(h.Name); got != h.Value {
				t.Errorf("attempt %d: added header %s = %q, server saw %q", i+1, h.Name, h.Value, got)
			}
		}
		for _, n := range []string{HeaderDeliveryID, HeaderAttempt, "User-Agent", HeaderWebhookID, HeaderWebhookTS, HeaderWebhookSig} {
			if !names[n] {
				t.Errorf("attempt %d: AddedHeaders lacks %s", i+1, n)
			}
		}
	}
	if res1.RequestDigest == res2.RequestDigest {
		t.Error("attempts 1 and 2 have the same digest although the attempt header differs")
	}
}

func TestDigestFraming(t *testing.T) {
	base := Digest("POST", "http://a/", []Header{{"B", "2"}, {"a", "1"}}, []byte("body"))
	same := []string{
		Digest("POST", "http://a/", []Header{{"a", "1"}, {"b", "2"}}, []byte("body")),
	}
	for _, d := range same {
		if d != base {
			t.Errorf("header order or case changed the digest")
		}
	}
	different := map[string]string{
		"method":          Digest("PUT", "http://a/", []Header{{"a", "1"}, {"b", "2"}}, []byte("body")),
		"url":             Digest("POST", "http://a/x", []Header{{"a", "1"}, {"b", "2"}}, []byte("body")),
		"header value":    Digest("POST", "http://a/", []Header{{"a", "1"}, {"b", "3"}}, []byte("body")),
		"shifted bytes":   Digest("POST", "http://a/", []Header{{"a", "1b"}, {"", "2"}}, []byte("body")),
		"body":            Digest("POST", "http://a/", []Header{{"a", "1"}, {"b", "2"}}, []byte("bodz")),
		"repeat order":    Digest("POST", "http://a/", []Header{{"a", "1"}, {"a", "2"}}, nil),
		"repeat order 2":  Digest("POST", "http://a/", []Header{{"a", "2"}, {"a", "1"}}, nil),
		"body into url":   Digest("POST", "http://a/body", []Header{{"a", "1"}, {"b", "2"}}, nil),
		"no headers":      Digest("POST", "http://a/", nil, []byte("body")),
		"empty body":      Digest("POST", "http://a/", []Header{{"a", "1"}, {"b", "2"}}, nil),
		"method into url": Digest("POS", "Thttp://a/", []Header{{"a", "1"}, {"b", "2"}}, []byte("body")),
	}
	seenDigest := map[string]string{base: "base"}
	for name, d := range different {
		if other, dup := seenDigest[d]; dup {
			t.Errorf("%s collides with %s", name, other)
		}
		seenDigest[d] = name
	}
}

func TestStandardWebhooksEndToEnd(t *testing.T) {
	newKey := "whsec_" + base64.StdEncoding.EncodeToString([]byte("secret-key-for-auditrelay-tests!"))
	signer, err := NewSWSigner(newKey, vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	onlyNew, _ := NewSWSigner(newKey)
	onlyOld, _ := NewSWSigner(vectorSecret)
	unrelated, _ := NewSWSigner("whsec_" + base64.StdEncoding.EncodeToString([]byte("an unrelated key, not used here")))

	rec := newRecorder(t)
	c := newTestClient(t, Options{})
	r := req(rec.URL)
	r.StandardWebhooks = signer
	r.Headers = append(r.Headers, Header{"Webhook-Id", "spoofed"})
	before := time.Now()
	res := c.Send(context.Background(), r)
	wantClass(t, res, ClassNone)

	s := rec.requests()[0]
	if got := s.header.Values(HeaderWebhookID); len(got) != 1 || got[0] != r.DeliveryID {
		t.Errorf("webhook-id = %q, want [%q]", got, r.DeliveryID)
	}
	ts, err := strconv.ParseInt(s.header.Get(HeaderWebhookTS), 10, 64)
	if err != nil || ts < before.Unix() || ts > time.Now().Unix() {
		t.Errorf("webhook-timestamp %q is not the send time", s.header.Get(HeaderWebhookTS))
	}
	sigs := strings.Fields(s.header.Get(HeaderWebhookSig))
	if len(sigs) != 2 || !strings.HasPrefix(sigs[0], "v1,") || !strings.HasPrefix(sigs[1], "v1,") {
		t.Fatalf("webhook-signature %q, want two v1 signatures", s.header.Get(HeaderWebhookSig))
	}
	now := time.Now()
	for name, v := range map[string]*SWSigner{"both": signer, "new only": onlyNew, "old only": onlyOld} {
		if err := v.Verify(s.header, s.body, now, 0); err != nil {
			t.Errorf("receiver with %s key: %v", name, err)
		}
	}
	if err := unrelated.Verify(s.header, s.body, now, 0); err == nil {
		t.Error("a receiver with an unrelated key accepted the signature")
	}
	// The signature is over the exact body bytes.
	if err := signer.Verify(s.header, append(s.body, ' '), now, 0); err == nil {
		t.Error("a modified body verified")
	}
	// Later attempts keep the id and get a fresh timestamp and signature.
	h2 := http.Header{}
	h2.Set(HeaderWebhookID, r.DeliveryID)
	h2.Set(HeaderWebhookTS, strconv.FormatInt(ts+60, 10))
	h2.Set(HeaderWebhookSig, signer.Sign(r.DeliveryID, time.Unix(ts+60, 0), r.Body))
	if h2.Get(HeaderWebhookSig) == s.header.Get(HeaderWebhookSig) {
		t.Error("signature did not change with the timestamp")
	}
}
