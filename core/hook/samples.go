package hook

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

// Sample contexts written for auditrelay (not the framework's): one
// realistic entry context per kind, used by Lint and for previews when no
// real entry is at hand.
//
//go:embed samples/*.json
var samples embed.FS

// SampleNames lists the available sample contexts ("environment", "flag",
// "member", "project", "segment").
func SampleNames() []string {
	entries, _ := fs.ReadDir(samples, "samples")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".json"))
	}
	return names
}

// Sample returns the sample context of the given name, freshly decoded.
func Sample(name string) (jsonv.Value, error) {
	data, err := samples.ReadFile("samples/" + name + ".json")
	if err != nil {
		return jsonv.Value{}, fmt.Errorf("no sample context %q (available: %s)", name, strings.Join(SampleNames(), ", "))
	}
	return jsonv.Decode(data)
}

// lintSample names the sample each template key is checked with, as the
// framework's tests pair templates with contexts.
func lintSample(key string) string {
	switch key {
	case "project", "environment", "member":
		return key
	case "validation":
		return "environment"
	}
	return "flag" // flag and default
}
