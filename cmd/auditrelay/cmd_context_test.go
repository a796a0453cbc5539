package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/jsonv"
)

// contextFixture is a fixture of core/auditlog, the package the command
// wraps.
func contextFixture(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join("..", "..", "core", "auditlog", "testdata", "entries", name+".json")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return path
}

func runContextCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"context"}, args...), strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// expectedContext is the library's output for the fixture, which the
// command must print unchanged.
func expectedContext(t *testing.T, path, baseURL string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	e, err := auditlog.DecodeEntry(raw)
	if err != nil {
		t.Fatal(err)
	}
	b, err := auditlog.NewBuilder(auditlog.Options{BaseURL: baseURL})
	if err != nil {
		t.Fatal(err)
	}
	return string(jsonv.MarshalIndent(b.Build(e), "  ")) + "\n"
}

func TestContextCommand(t *testing.T) {
	toggle := contextFixture(t, "flag-toggle")
	toggleRaw, err := os.ReadFile(toggle)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("file", func(t *testing.T) {
		code, out, errOut := runContextCmd(t, "", "--entry", toggle)
		if code != exitOK || errOut != "" {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		if want := expectedContext(t, toggle, ""); out != want {
			t.Errorf("output differs from the library's context:\n%s", out)
		}
		for _, s := range []string{"{\n  \"_links\": {\n", `"verbKind": "updateOn"`, `"baseURL": "https://app.launchdarkly.com"`} {
			if !strings.Contains(out, s) {
				t.Errorf("output lacks %q", s)
			}
		}
	})

	t.Run("stdin and base URL", func(t *testing.T) {
		code, out, errOut := runContextCmd(t, string(toggleRaw), "--entry", "-", "--base-url", "https://app.eu.launchdarkly.com")
		if code != exitOK {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		if want := expectedContext(t, toggle, "https://app.eu.launchdarkly.com"); out != want {
			t.Errorf("output:\n%s", out)
		}
	})

	t.Run("array prints an array of contexts", func(t *testing.T) {
		other, err := os.ReadFile(contextFixture(t, "webhook-enable"))
		if err != nil {
			t.Fatal(err)
		}
		code, out, errOut := runContextCmd(t, "["+string(toggleRaw)+","+string(other)+"]", "--entry", "-")
		if code != exitOK {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		v, err := jsonv.DecodeString(out)
		if err != nil {
			t.Fatal(err)
		}
		if v.Len() != 2 || v.Index(0).Get("kind").Text() != "flag" || v.Index(1).Get("kind").Text() != "webhook" {
			t.Errorf("got %s", jsonv.Marshal(v))
		}
	})

	t.Run("warnings go to stderr", func(t *testing.T) {
		in := `{"_id":"a","date":1,"kind":"flag","accesses":[],"name":7}`
		code, out, errOut := runContextCmd(t, in, "--entry", "-")
		if code != exitOK || out == "" {
			t.Fatalf("exit %d", code)
		}
		if want := `auditrelay: <stdin>:1:56: warning: "name": expected a string, found number; ignored`; strings.TrimSpace(errOut) != want {
			t.Errorf("stderr %q, want %q", errOut, want)
		}
	})
}

func TestContextCommandConfiguredBaseURL(t *testing.T) {
	entry := contextFixture(t, "metric-create")
	cfgFile := filepath.Join(t.TempDir(), "auditrelay.yaml")
	if err := os.WriteFile(cfgFile, []byte("base_url: https://app.eu.launchdarkly.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  string
		args []string
		want string
	}{
		{"config file", "", []string{"--config", cfgFile}, "https://app.eu.launchdarkly.com"},
		{"environment over config file", "http://localhost:8080", []string{"--config", cfgFile}, "http://localhost:8080"},
		{"flag over both", "http://localhost:8080", []string{"--config", cfgFile, "--base-url", "https://ld.example.com"}, "https://ld.example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("AUDITRELAY_BASE_URL", tc.env)
			}
			code, out, errOut := runContextCmd(t, "", append([]string{"--entry", entry}, tc.args...)...)
			if code != exitOK {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if want := expectedContext(t, entry, tc.want); out != want {
				t.Errorf("base URL %s not used:\n%.300s", tc.want, out)
			}
		})
	}
}

func TestContextCommandErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"_id":"a","accesses":[],"kind":"flag","date":"2024-01-01"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(dir, "list.ndjson")
	if err := os.WriteFile(list, []byte("{\"_id\":\"a\",\"date\":1,\"kind\":\"flag\",\"accesses\":[]}\n{\"_id\":\"b\",\"date\":1,\"accesses\":[]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		stdin  string
		args   []string
		stderr string
	}{
		{"no entry flag", "", nil, "auditrelay: context: --entry FILE is required (use - for standard input)"},
		{"missing file", "", []string{"--entry", filepath.Join(dir, "nope.json")}, "auditrelay: context: open " + filepath.Join(dir, "nope.json") + ": no such file or directory"},
		{"bad field", "", []string{"--entry", bad}, "auditrelay: " + bad + `:1:47: "date": expected a number (milliseconds since epoch), found string`},
		{"bad element in a list", "", []string{"--entry", list}, "auditrelay: " + list + `:2:1: "kind": required field is missing (the resource kind, e.g. "flag")`},
		{"syntax error on stdin", "{\n  \"_id\": \"a\",\n}", []string{"--entry", "-"}, "auditrelay: <stdin>:3:1: trailing comma before '}': expected another member name"},
		{"bad base URL", "", []string{"--entry", bad, "--base-url", "app.launchdarkly.com"}, `auditrelay: context: --base-url: base URL "app.launchdarkly.com": expected an absolute http(s) URL such as https://app.launchdarkly.com`},
		{"positional argument", "", []string{"entry.json"}, `auditrelay: unknown command "entry.json" for "auditrelay context"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runContextCmd(t, tc.stdin, tc.args...)
			if code != exitBadUsage {
				t.Errorf("exit %d, want %d", code, exitBadUsage)
			}
			if out != "" {
				t.Errorf("stdout should be empty on error, got %q", out)
			}
			if strings.TrimSpace(errOut) != tc.stderr {
				t.Errorf("stderr\n got  %q\n want %q", strings.TrimSpace(errOut), tc.stderr)
			}
		})
	}
}
