package store

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestSentRequestRoundTrip(t *testing.T) {
	for _, body := range [][]byte{nil, {}, []byte("short"), []byte(strings.Repeat(`{"k":"flag toggled"},`, 100)), bytes.Repeat([]byte{0, 255, 7}, 500)} {
		r := NewSentRequest("POST", nil, body, "v")
		atts := []Attempt{{Number: 1, Request: r}, {Number: 2, Request: &SentRequest{Method: "POST", BodyDigest: r.BodyDigest, BodySize: r.BodySize, BodyEncoding: r.BodyEncoding}}}
		ExpandSent(atts)
		for _, a := range atts {
			if a.Request.BodyError != "" || !bytes.Equal(a.Request.Body, body) || a.Request.BodyEncoding != BodyPlain {
				t.Fatalf("%d-byte body: attempt %d = %q (%s)", len(body), a.Number, a.Request.Body, a.Request.BodyError)
			}
		}
	}
}

// TestExpandSentDamaged: a damaged stored body is reported on its
// attempt; nothing panics and the other attempts still expand.
func TestExpandSentDamaged(t *testing.T) {
	good := NewSentRequest("POST", nil, []byte(strings.Repeat("abc", 200)), "")
	bad := NewSentRequest("POST", nil, []byte(strings.Repeat("xyz", 200)), "")
	bad.Body = append([]byte(nil), bad.Body[:len(bad.Body)/2]...)
	huge := &SentRequest{Method: "POST", BodyDigest: "00", BodySize: MaxSentBody + 1, Body: []byte("x")}
	missing := &SentRequest{Method: "POST", BodyDigest: "11", BodySize: 10}
	atts := []Attempt{{Number: 1, Request: good}, {Number: 2, Request: bad}, {Number: 3, Request: huge}, {Number: 4, Request: missing}}
	ExpandSent(atts)
	if atts[0].Request.BodyError != "" {
		t.Errorf("good body: %s", atts[0].Request.BodyError)
	}
	for _, a := range atts[1:] {
		if a.Request.BodyError == "" || a.Request.Body != nil {
			t.Errorf("attempt %d: no error reported: %+v", a.Number, a.Request)
		}
	}
}

// BenchmarkNewSentRequest is what keeping a request costs the attempt
// that sent it: digest, and deflate when it pays.
func BenchmarkNewSentRequest(b *testing.B) {
	for _, n := range []int{1 << 10, 4 << 10, 10 << 10} {
		body := []byte(strings.Repeat(`{"title":"Maya Okafor turned on the flag New checkout flow","kind":"flag","_id":"6790a1b2c3d4e5f6a7b8c9d0"},`, n/100+1))[:n]
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			var stored int
			for b.Loop() {
				stored = len(NewSentRequest("POST", nil, body, "v").Body)
			}
			b.ReportMetric(float64(stored), "stored-B")
		})
	}
}
