package jsonv

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/auditrelay/auditrelay/core/reftest"
)

// BenchmarkDecodeContext decodes one of the framework's sample contexts
// (3.3 KB), the size of a typical audit-log entry.
func BenchmarkDecodeContext(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(reftest.Dir(b), "sample-context", "flag", "update-all-environments.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
