package delivery

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The published test vector of the Standard Webhooks reference libraries
// (standard-webhooks/standard-webhooks, libraries/go/webhook_test.go,
// TestWebhookSign).
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSWSignerSpecVector(t *testing.T) {
	s, err := NewSWSigner(vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Sign(vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorBody)); got != vectorSignature {
		t.Fatalf("Sign = %q, want the spec vector %q", got, vectorSignature)
	}
	h := http.Header{}
	h.Set("webhook-id", vectorID)
	h.Set("webhook-timestamp", strconv.Itoa(vectorTimestamp))
	h.Set("webhook-signature", vectorSignature)
	if err := s.Verify(h, []byte(vectorBody), time.Unix(vectorTimestamp+10, 0), 0); err != nil {
		t.Fatalf("Verify(spec vector) = %v", err)
	}
}

func TestSWSignerSecretErrors(t *testing.T) {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	cases := []struct {
		secret string
		want   string
	}{
		{"", "empty"},
		{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", `missing "whsec_" prefix`},
		{"whsk_" + b64(32), `missing "whsec_" prefix`},
		{"whsec_not base64!!", "not valid base64"},
		{"whsec_" + b64(23), "key is 23 bytes, want 24 to 64"},
		{"whsec_" + b64(65), "key is 65 bytes, want 24 to 64"},
	}
	for _, tc := range cases {
		_, err := NewSWSigner(vectorSecret, tc.secret)
		if err == nil {
			t.Errorf("NewSWSigner(%q) succeeded", tc.secret)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "secret 2 of 2") {
			t.Errorf("NewSWSigner(%q) = %v, want it to name secret 2 of 2 and say %q", tc.secret, err, tc.want)
		}
		if tc.secret != "" && len(tc.secret) > 8 && strings.Contains(err.Error(), tc.secret[6:]) {
			t.Errorf("error %q repeats the secret", err)
		}
	}
	if _, err := NewSWSigner(); err == nil {
		t.Error("NewSWSigner() with no secret succeeded")
	}
	for _, ok := range []string{"whsec_" + b64(24), "whsec_" + b64(64), "whsec_" + strings.TrimRight(b64(32), "="), " " + vectorSecret + "\n"} {
		if _, err := NewSWSigner(ok); err != nil {
			t.Errorf("NewSWSigner(%q) = %v", ok, err)
		}
	}
}

func TestSWSignerVerifyRejects(t *testing.T) {
	s, _ := NewSWSigner(vectorSecret)
	now := time.Unix(vectorTimestamp, 0)
	good := func() http.Header {
		h := http.Header{}
		h.Set(HeaderWebhookID, vectorID)
		h.Set(HeaderWebhookTS, strconv.Itoa(vectorTimestamp))
		h.Set(HeaderWebhookSig, vectorSignature)
		return h
	}
	cases := []struct {
		name   string
		mod    func(http.Header)
		body   string
		now    time.Time
		target error
	}{
		{"missing id", func(h http.Header) { h.Del(HeaderWebhookID) }, vectorBody, now, ErrSWMissingHeader},
		{"missing ts", func(h http.Header) { h.Del(HeaderWebhookTS) }, vectorBody, now, ErrSWMissingHeader},
		{"missing sig", func(h http.Header) { h.Del(HeaderWebhookSig) }, vectorBody, now, ErrSWMissingHeader},
		{"other id", func(h http.Header) { h.Set(HeaderWebhookID, "msg_other") }, vectorBody, now, ErrSWNoMatch},
		{"body changed", func(http.Header) {}, `{"test": 2432232315}`, now, ErrSWNoMatch},
		{"too old", func(http.Header) {}, vectorBody, now.Add(5*time.Minute + time.Second), ErrSWTimestamp},
		{"too new", func(http.Header) {}, vectorBody, now.Add(-5*time.Minute - time.Second), ErrSWTimestamp},
		{"ts changed", func(h http.Header) { h.Set(HeaderWebhookTS, strconv.Itoa(vectorTimestamp+1)) }, vectorBody, now, ErrSWNoMatch},
		{"v1a only", func(h http.Header) { h.Set(HeaderWebhookSig, strings.Replace(vectorSignature, "v1,", "v1a,", 1)) }, vectorBody, now, ErrSWNoMatch},
		{"bad base64", func(h http.Header) { h.Set(HeaderWebhookSig, "v1,@@@") }, vectorBody, now, ErrSWNoMatch},
	}
	for _, tc := range cases {
		h := good()
		tc.mod(h)
		err := s.Verify(h, []byte(tc.body), tc.now, 0)
		if !errors.Is(err, tc.target) {
			t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.target)
		}
	}
	h := good()
	h.Set(HeaderWebhookTS, "yesterday")
	if err := s.Verify(h, []byte(vectorBody), now, 0); err == nil || !strings.Contains(err.Error(), "not integer Unix seconds") {
		t.Errorf("non-numeric timestamp: %v", err)
	}
	// Among several entries, one valid signature is enough.
	h = good()
	h.Set(HeaderWebhookSig, "v1a,xyz v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= "+vectorSignature)
	if err := s.Verify(h, []byte(vectorBody), now, 0); err != nil {
		t.Errorf("multi-signature header: %v", err)
	}
	// A wide tolerance accepts an old timestamp.
	if err := s.Verify(good(), []byte(vectorBody), now.Add(time.Hour), 2*time.Hour); err != nil {
		t.Errorf("tolerance 2h, 1h old: %v", err)
	}
}

func TestSWSignerDoesNotPrintKeys(t *testing.T) {
	s, _ := NewSWSigner(vectorSecret)
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(vectorSecret, "whsec_"))
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(f, s)
		if strings.Contains(out, "MfKQ9r8G") || strings.Contains(out, fmt.Sprint(key[:4])) || strings.Contains(out, string(key[:4])) {
			t.Errorf("%s printed key material: %s", f, out)
		}
	}
	if s.String() != "SWSigner(1 keys)" || s.Keys() != 1 {
		t.Errorf("String = %q", s.String())
	}
}

func BenchmarkSWSign(b *testing.B) {
	s, err := NewSWSigner(vectorSecret)
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(strings.Repeat("x", 1024))
	ts := time.Unix(vectorTimestamp, 0)
	b.ReportAllocs()
	for b.Loop() {
		s.Sign(vectorID, ts, body)
	}
}
