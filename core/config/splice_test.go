package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// operatorFile is a config file as an operator keeps it: blank lines, a
// commented-out block with its own indentation, every quoting style.
const operatorFile = `# auditrelay, prod


data_dir: ./data



subscriptions:
  # Slack first.
  - name: slack-prod
    integration: slack
    vars:
      webhookUrl: https://hooks.slack.test/x   # rotated 2026-11
      channel: "#ops"
      mention: 'on-call'
      verbose: true


#  - name: datadog
#      integration: datadog
#        vars:
#          apiKey: env:DD_API_KEY

  - name: raw
    integration: webhook
    concurrency: 2
  - name: empty
    integration: webhook
    vars:
    enabled: true
  - name: block
    integration: webhook
    vars:
      note: |
        two
        lines
  - name: single
    integration: webhook
    templates:
      flag: t/flag.hbs
`

func TestSetInPlaceChangesOnlyTheValue(t *testing.T) {
	tests := []struct {
		name, sub, section, key string
		value                   any
		old, new                string // the bytes that change; old "" with new = an insertion before the marker
		err                     string
	}{
		{name: "plain with a comment", sub: "slack-prod", section: "vars", key: "webhookUrl", value: "https://hooks.slack.test/y",
			old: "webhookUrl: https://hooks.slack.test/x   #", new: "webhookUrl: https://hooks.slack.test/y   #"},
		{name: "double-quoted", sub: "slack-prod", section: "vars", key: "channel", value: "#alerts",
			old: `channel: "#ops"`, new: `channel: '#alerts'`},
		{name: "single-quoted", sub: "slack-prod", section: "vars", key: "mention", value: `it's "me"`,
			old: `mention: 'on-call'`, new: `mention: it's "me"`},
		{name: "boolean", sub: "slack-prod", section: "vars", key: "verbose", value: false,
			old: "verbose: true", new: "verbose: false"},
		{name: "multi-line value is quoted", sub: "slack-prod", section: "vars", key: "verbose", value: "a\nb",
			old: "verbose: true", new: `verbose: "a\nb"`},
		{name: "new key", sub: "slack-prod", section: "vars", key: "icon", value: "robot",
			old: "    vars:\n      webhookUrl", new: "    vars:\n      icon: robot\n      webhookUrl"},
		{name: "removed key", sub: "slack-prod", section: "vars", key: "mention", value: nil,
			old: "      mention: 'on-call'\n", new: ""},
		{name: "new section", sub: "raw", section: "templates", key: "flag", value: "templates/raw/flag.json.hbs",
			old: "  - name: raw\n", new: "  - name: raw\n    templates:\n      flag: templates/raw/flag.json.hbs\n"},
		{name: "empty section", sub: "empty", section: "vars", key: "url", value: "https://x.example.com/h",
			old: "  - name: empty\n    integration: webhook\n    vars:\n", new: "  - name: empty\n    vars:\n      url: https://x.example.com/h\n    integration: webhook\n"},
		{name: "last entry removed with its section", sub: "single", section: "templates", key: "flag", value: nil,
			old: "    templates:\n      flag: t/flag.hbs\n", new: ""},
		{name: "block scalar", sub: "block", section: "vars", key: "note", value: "one", err: "spans lines"},
		{name: "unknown subscription", sub: "nope", section: "vars", key: "x", value: "y", err: `subscription "nope" is not in the config file`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := setInPlace([]byte(operatorFile), tt.sub, tt.section, tt.key, tt.value)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Count(operatorFile, tt.old) != 1 {
				t.Fatalf("test bug: %q is not once in the file", tt.old)
			}
			want := strings.Replace(operatorFile, tt.old, tt.new, 1)
			if string(got) != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// A save through the file API changes the file's bytes only at the value,
// and keeps its mode.
func TestSetSubscriptionValuesByteForByte(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auditrelay.yaml")
	if err := os.WriteFile(path, []byte(operatorFile), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := SetSubscriptionValues(path, "slack-prod", map[string]any{"webhookUrl": "https://hooks.slack.test/z", "verbose": false}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := strings.NewReplacer("slack.test/x", "slack.test/z", "verbose: true", "verbose: false").Replace(operatorFile)
	if string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("mode changed to %v", st.Mode().Perm())
	}
}

// FuzzSetInPlace: whatever the file and the value, setInPlace never
// panics, and what it returns decodes to the old document with only that
// value changed (its own check, repeated here independently of it).
func FuzzSetInPlace(f *testing.F) {
	f.Add(operatorFile, "slack-prod", "webhookUrl", "https://x.example.com/a#b", false)
	f.Add(operatorFile, "raw", "new", "", true)
	f.Add("subscriptions:\n  - {name: a, vars: {x: 1}}\n", "a", "x", "2", false)
	f.Add("subscriptions:\n  - name: a\n    vars:\n      x: >\n        folded\n", "a", "x", "y", false)
	f.Add("subscriptions:\n  - name: a\n    vars:\n      x: \"q\\\"uote\" # c\n", "a", "x", "'", false)
	f.Fuzz(func(t *testing.T, doc, sub, key, value string, remove bool) {
		if len(doc) > 4096 {
			return
		}
		var v any = value
		if remove {
			v = nil
		}
		out, err := setInPlace([]byte(doc), sub, "vars", key, v)
		if err != nil {
			return
		}
		if err := verifySplice([]byte(doc), out, sub, "vars", key, v, false); err != nil && verifySplice([]byte(doc), out, sub, "vars", key, v, true) != nil {
			t.Fatalf("accepted an inexact edit: %v\nbefore:\n%s\nafter:\n%s", err, doc, out)
		}
	})
}
