package bench

import (
	"path/filepath"
	"testing"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/hook"
	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/manifest"
	"github.com/auditrelay/auditrelay/core/store"
)

// BenchmarkEventWork is the CPU a relay spends on one entry of the bench's
// path apart from HTTP and the store: decode the signed body's entry,
// build its template context, render the templated integration and make
// the stored form of the request. It isolates what `auditrelay bench`
// measures with everything else around it:
//
//	go test -run '^$' -bench BenchmarkEventWork -benchmem ./core/bench
func BenchmarkEventWork(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "bench-events")
	if err := WriteIntegration(dir); err != nil {
		b.Fatal(err)
	}
	in, problems := manifest.LoadDir(dir)
	if err := problems.Err(); err != nil {
		b.Fatal(err)
	}
	hk, err := hook.New(in)
	if err != nil {
		b.Fatal(err)
	}
	bound := hk.Bind(hook.Vars{Values: map[string]jsonv.Value{
		"endpointUrl": jsonv.Str("http://127.0.0.1:9/hook"),
		"apiKey":      jsonv.Str("bench-api-key-not-a-secret"),
	}})
	builder, err := auditlog.NewBuilder(auditlog.Options{})
	if err != nil {
		b.Fatal(err)
	}
	_, bodies := events(1000, 7)
	b.ReportAllocs()
	i, sent, stored := 0, 0, 0
	for b.Loop() {
		ent, err := auditlog.DecodeEntry(bodies[i%len(bodies)])
		if err != nil {
			b.Fatal(err)
		}
		i++
		ev := hook.NewLazyEvent(ent.Raw, ent.Kind, func() jsonv.Value { return builder.Build(ent) })
		req, err := bound.Render(ev)
		if err != nil || req.Skipped != "" {
			b.Fatalf("render: %v %q", err, req.Skipped)
		}
		r := store.NewSentRequest(req.Method, nil, req.Body, "")
		sent, stored = sent+r.BodySize, stored+len(r.Body)
	}
	b.ReportMetric(float64(sent)/float64(b.N), "body-B")
	b.ReportMetric(float64(stored)/float64(b.N), "stored-B")
}
