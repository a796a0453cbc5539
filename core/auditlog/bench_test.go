package auditlog

import "testing"

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
