package manifest

import (
	"errors"
	"testing"

	"github.com/auditrelay/auditrelay/core/render"
	"github.com/auditrelay/auditrelay/templates"
)

func TestWithTemplateLeavesTheOriginalAlone(t *testing.T) {
	in, probs := LoadBuiltin(templates.FS(), "slack")
	if probs.HasErrors() {
		t.Fatal(probs)
	}
	before := in.Template("default")
	if before == nil {
		t.Fatal("slack has no default template")
	}
	out, err := in.WithTemplate("flag", "/tmp/over/flag.json.hbs", `{"text":"{{{title.plainText}}}"}`)
	if err != nil {
		t.Fatal(err)
	}
	got := out.Template("flag")
	if got == nil || got.Source != `{"text":"{{{title.plainText}}}"}` || !got.JSON || got.Compiled == nil {
		t.Fatalf("override template = %+v", got)
	}
	if in.Template("flag") != nil || in.Hook().Templates.Flag != "" {
		t.Error("WithTemplate changed the shared integration")
	}
	if out.Template("default") != before {
		t.Error("other templates should be shared")
	}

	_, err = in.WithTemplate("flag", "x.json.hbs", "{{#if a}}unclosed")
	var re *render.Error
	if !errors.As(err, &re) || re.Line == 0 {
		t.Errorf("parse error = %v, want a positioned *render.Error", err)
	}
	if _, err := in.WithTemplate("bogus", "x.hbs", "x"); err == nil {
		t.Error("unknown key accepted")
	}
}
