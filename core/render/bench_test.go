package render

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/reftest"
)

// datadogFlag loads what the datadog flag benchmarks render: the template
// its manifest uses for flags (templates.default, as it has no flag
// template), the flag/update-all-environments sample and the golden pair's
// form values.
func datadogFlag(b *testing.B) (tpl *Template, event []byte, formVars jsonv.Value, want string) {
	ref := reftest.Dir(b)
	src, err := os.ReadFile(filepath.Join(ref, "integrations", "datadog", "templates", "default.json.hbs"))
	if err != nil {
		b.Fatal(err)
	}
	tpl, err = Parse("datadog/templates/default.json.hbs", string(src))
	if err != nil {
		b.Fatal(err)
	}
	event, err = os.ReadFile(filepath.Join(ref, "sample-context", "flag", "update-all-environments.json"))
	if err != nil {
		b.Fatal(err)
	}
	var g goldenFile
	readJSON(b, filepath.Join(ref, "golden", "datadog", "flag__update-all-environments.json"), &g)
	formVars, err = jsonv.DecodeString(`{"apiKey":"example-apiKey","hostURL":"https://api.datadoghq.com","hideMemberDetails":false}`)
	if err != nil {
		b.Fatal(err)
	}
	return tpl, event, formVars, *g.Body
}

// BenchmarkRenderDatadogFlag measures rendering alone: template compiled
// and context (escaped event + formVariables) built once.
func BenchmarkRenderDatadogFlag(b *testing.B) {
	tpl, event, formVars, want := datadogFlag(b)
	ev, err := jsonv.Decode(event)
	if err != nil {
		b.Fatal(err)
	}
	root := bodyContext(ev, formVars, jsonv.NullValue(), true)
	if got, err := tpl.Execute(root); err != nil || got != want {
		b.Fatalf("render differs from golden (err %v)", err)
	}
	b.Run("Execute", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(want)))
		for b.Loop() {
			if _, err := tpl.Execute(root); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AppendExecute", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(want)))
		var buf []byte
		for b.Loop() {
			buf, err = tpl.AppendExecute(buf[:0], root)
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEventDatadogFlag measures one event end to end: decode the raw
// context JSON, JSON-escape it, add formVariables, render.
func BenchmarkEventDatadogFlag(b *testing.B) {
	tpl, event, formVars, want := datadogFlag(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(event)))
	var buf []byte
	for b.Loop() {
		ev, err := jsonv.Decode(event)
		if err != nil {
			b.Fatal(err)
		}
		root := bodyContext(ev, formVars, jsonv.NullValue(), true)
		buf, err = tpl.AppendExecute(buf[:0], root)
		if err != nil {
			b.Fatal(err)
		}
	}
	if string(buf) != want {
		b.Fatal("render differs from golden")
	}
}
