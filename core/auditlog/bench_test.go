package auditlog

import (
	"strings"
	"testing"
)

// BenchmarkDecodeEntry is the per-event cost of reading a webhook body.
func BenchmarkDecodeEntry(b *testing.B) {
	raw := fixtures(b)["flag-toggle"]
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeEntry(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildContext is decode plus build for a typical flag entry.
func BenchmarkBuildContext(b *testing.B) {
	raw := fixtures(b)["flag-targeting"]
	builder, err := NewBuilder(Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		e, err := DecodeEntry(raw)
		if err != nil {
			b.Fatal(err)
		}
		builder.Build(e)
	}
}

// BenchmarkDecodePage is the poller's cost of reading one full page of the
// list API (20 items, LaunchDarkly's largest page).
func BenchmarkDecodePage(b *testing.B) {
	data := benchPage(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := DecodePage(data)
		if err != nil || len(p.Entries) != 20 {
			b.Fatal(err)
		}
	}
}

// benchPage is a page of 20 items: the fixtures, repeated.
func benchPage(b *testing.B) []byte {
	body, parts := joinFixtures(b, ",", true)
	items := string(body)
	for n := len(parts); n < 20; n += len(parts) {
		items += "," + string(body)
	}
	page, err := DecodeEntries([]byte(`[` + items + `]`))
	if err != nil {
		b.Fatal(err)
	}
	raws := make([]string, 20)
	for i := range raws {
		raws[i] = string(page[i].Raw)
	}
	return []byte(`{"_links":{"next":{"href":"/api/v2/auditlog?before=1","type":"application/json"}},"items":[` + strings.Join(raws, ",") + `],"totalCount":1000}`)
}
