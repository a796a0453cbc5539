package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/core/reftest"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

func TestIntegrationsListBuiltins(t *testing.T) {
	code, out, errOut := runMain(t, "", "integrations", "list")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "integrations_list.golden", out)
}

func TestIntegrationsListJSON(t *testing.T) {
	ref := reftest.Dir(t)
	code, out, errOut := runMain(t, "", "integrations", "list", "--json", "--dir", filepath.Join(ref, "integrations"))
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	v, err := jsonv.DecodeString(out)
	if err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	byName := map[string]jsonv.Value{}
	for _, e := range v.Elems() {
		byName[e.Get("name").Text()] = e
	}
	if len(byName) != 13 {
		t.Errorf("%d integrations listed, want 13", len(byName))
	}
	dd := byName["datadog"]
	if dd.Get("source").Text() != filepath.Join(ref, "integrations", "datadog") || dd.Path("templates", "member").Text() != "templates/member.json.hbs" {
		t.Errorf("datadog = %s", jsonv.Marshal(dd))
	}
	fvs := dd.Get("formVariables").Elems()
	if len(fvs) != 3 || fvs[0].Get("key").Text() != "apiKey" || !fvs[0].Get("secret").Bool() || !fvs[0].Get("required").Bool() ||
		fvs[1].Get("required").Bool() || fvs[1].Get("default").Text() != "https://api.datadoghq.com" || fvs[1].Get("allowedValues").Len() != 5 {
		t.Errorf("datadog form variables = %s", jsonv.Marshal(dd.Get("formVariables")))
	}
	if !byName["kosli"].Get("standardPayload").Bool() || byName["slack"].Get("source").Text() != "builtin" {
		t.Errorf("kosli/slack = %s %s", jsonv.Marshal(byName["kosli"]), jsonv.Marshal(byName["slack"]))
	}
}

func TestIntegrationsListGlobalDirAndBrokenIntegration(t *testing.T) {
	tmp := t.TempDir()
	writeIntegration(t, filepath.Join(tmp, "good"), map[string]string{
		"manifest.json":              lintManifest,
		"templates/default.json.hbs": `{"text": "{{{title.plainText}}}"}`,
	})
	writeIntegration(t, filepath.Join(tmp, "broken"), map[string]string{"manifest.json": `{"name": `})
	code, out, errOut := runMain(t, "", "--integrations-dir", tmp, "integrations", "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	wantErr := "auditrelay: warning: " + filepath.Join(tmp, "broken", "manifest.json") + ": 1 problem, integration skipped (see auditrelay validate)\n"
	if errOut != wantErr {
		t.Errorf("stderr = %q, want %q", errOut, wantErr)
	}
	if !strings.Contains(out, "\ngood          "+filepath.Join(tmp, "good")+"  default ") || strings.Contains(out, "broken") {
		t.Errorf("table:\n%s", out)
	}
}
