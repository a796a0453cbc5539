package render

import (
	"testing"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

func BenchmarkZZEventParts(b *testing.B) {
	_, event, formVars, _ := datadogFlag(b)
	ev, _ := jsonv.Decode(event)
	esc := jsonv.EscapeStrings(ev)
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			jsonv.Decode(event)
		}
	})
	b.Run("escape", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			jsonv.EscapeStrings(ev)
		}
	})
	b.Run("withMembers", func(b *testing.B) {
		b.ReportAllocs()
		fv := withMembers(formVars, jsonv.Member{Key: "oauth", Value: jsonv.NullValue()})
		for b.Loop() {
			withMembers(esc, jsonv.Member{Key: "formVariables", Value: fv})
		}
	})
}
