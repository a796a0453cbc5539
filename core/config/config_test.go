package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/viper"
)

func load(t *testing.T, yamlText string, env map[string]string, set map[string]any) (Config, error) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "auditrelay.yaml")
	if err := os.WriteFile(path, []byte(yamlText), 0o600); err != nil {
		t.Fatal(err)
	}
	v := viper.New()
	for k, x := range set {
		v.Set(k, x)
	}
	return Load(v, path, func(name string) (string, bool) { s, ok := env[name]; return s, ok })
}

const good = `# relay config
data_dir: ./data
sources:
  webhook:
    secret: env:LD_SECRET
    max_body: 512KiB
delivery:
  retry:
    schedule: [1s, 10s]
subscriptions:
  - name: slack-prod
    integration: slack
    vars:
      webhookUrl: https://hooks.slack.test/x   # keep
      apiKey: ${API_KEY}
      verbose: true
    rate_limit: 600/m
    policy:
      - effect: allow
        resources: ["proj/*:env/production:flag/*"]
        actions: ["*"]
  - name: raw
    integration: webhook
    enabled: false
    concurrency: 2
`

func TestLoadGood(t *testing.T) {
	cfg, err := load(t, good, map[string]string{"LD_SECRET": "s3cret", "API_KEY": "key-123"}, map[string]any{"http.listen": ":9999"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Webhook.Secret.Value != "s3cret" || cfg.Webhook.Secret.Ref != "env:LD_SECRET" {
		t.Errorf("webhook secret = %+v", cfg.Webhook.Secret)
	}
	if cfg.Webhook.MaxBody != 512<<10 {
		t.Errorf("max body = %d", cfg.Webhook.MaxBody)
	}
	if got := cfg.Delivery.Schedule; len(got) != 2 || got[1] != 10*time.Second {
		t.Errorf("schedule = %v", got)
	}
	if cfg.HTTP.Listen != ":9999" {
		t.Errorf("flag override lost: %q", cfg.HTTP.Listen)
	}
	if len(cfg.Subscriptions) != 2 {
		t.Fatalf("subscriptions = %d", len(cfg.Subscriptions))
	}
	s := cfg.Subscriptions[0]
	// Keys keep their case (viper would have lower-cased them).
	if s.Vars["webhookUrl"].Value != "https://hooks.slack.test/x" || s.Vars["apiKey"].Value != "key-123" || s.Vars["apiKey"].Ref != "env:API_KEY" || s.Vars["verbose"].Value != true {
		t.Errorf("vars = %+v", s.Vars)
	}
	if s.Rate != 10 || s.Burst != 10 {
		t.Errorf("rate = %v burst %d", s.Rate, s.Burst)
	}
	if !strings.Contains(string(s.Policy), `"proj/*:env/production:flag/*"`) {
		t.Errorf("policy json = %s", s.Policy)
	}
	if cfg.Subscriptions[1].Enabled || cfg.Subscriptions[1].Concurrency != 2 {
		t.Errorf("second subscription = %+v", cfg.Subscriptions[1])
	}
	if strings.Contains(cfg.Webhook.Secret.String(), "s3cret") {
		t.Error("Secret.String leaks the value")
	}
}

func TestLoadListsEveryProblem(t *testing.T) {
	bad := `data_dir: ./data
sourcez: {}
sqlite:
  wal_max: 1MiB
delivery:
  timeout: 10
  retry:
    jitter: 2
subscriptions:
  - name: a
    integration: slack
    vars:
      token: env:MISSING
    rate_limit: fast
    colour: blue
  - name: a
  - integration: webhook
    concurrency: zero
`
	_, err := load(t, bad, nil, nil)
	ps, ok := err.(Problems)
	if !ok {
		t.Fatalf("err = %v (%T), want Problems", err, err)
	}
	want := []string{
		`auditrelay.yaml:2:1: sourcez: unknown setting`,
		`sqlite.wal_max: expected at least 4MiB, got 1048576 bytes`,
		`delivery.timeout: expected a duration with a unit`,
		`delivery.retry.jitter: expected a fraction in [0, 1)`,
		`auditrelay.yaml:13:14: subscriptions[0].vars.token: environment variable MISSING is not set`,
		`auditrelay.yaml:14:17: subscriptions[0].rate_limit: expected a rate such as 10/s`,
		`auditrelay.yaml:15:5: subscriptions[0].colour: unknown subscription setting`,
		`auditrelay.yaml:16:5: subscriptions[1].name: "a" is already used by subscriptions[0]`,
		`auditrelay.yaml:16:5: subscriptions[1].integration: every subscription needs an integration`,
		`auditrelay.yaml:17:5: subscriptions[2].name: every subscription needs a name`,
		`auditrelay.yaml:18:18: subscriptions[2].concurrency: expected an integer ≥ 1`,
	}
	text := ps.Error()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("missing problem %q in:\n%s", w, text)
		}
	}
	if len(ps) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(ps), len(want), text)
	}
}

func TestLoadYAMLSyntaxError(t *testing.T) {
	_, err := load(t, "subscriptions:\n  - name: a\n   integration: b\n", nil, nil)
	if err == nil {
		t.Fatal("want an error")
	}
	if !strings.Contains(err.Error(), "auditrelay.yaml:") {
		t.Errorf("error does not name the file: %v", err)
	}
}

func TestSetSubscriptionValuesKeepsComments(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(path, []byte(good), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := SetSubscriptionValues(path, "slack-prod", map[string]any{"webhookUrl": "https://new.test/y", "channel": "#ops", "verbose": false}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	text := string(data)
	for _, want := range []string{"# relay config", "webhookUrl: https://new.test/y", "channel: '#ops'", "verbose: false", "apiKey: ${API_KEY}"} {
		if !strings.Contains(text, want) {
			t.Errorf("saved file lacks %q:\n%s", want, text)
		}
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("mode changed to %v", st.Mode().Perm())
	}
	if err := SetSubscriptionValues(path, "nope", map[string]any{"a": "b"}); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown subscription: err = %v", err)
	}
	if err := SetSubscriptionTemplate(path, "raw", "flag", filepath.Join(dir, "tpl", "flag.json.hbs")); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(path)
	if !strings.Contains(string(data), "flag: tpl/flag.json.hbs") {
		t.Errorf("template override not saved relative to the file:\n%s", data)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"4096": 4096, "1MiB": 1 << 20, "64KiB": 64 << 10, "10MB": 10_000_000, "2 GiB": 2 << 30} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := ParseSize("lots"); err == nil {
		t.Error("ParseSize(lots) should fail")
	}
}

// The example shipped at the repository root must load: it documents
// every setting, so it must not drift from the loader.
func TestExampleConfigLoads(t *testing.T) {
	env := map[string]string{"SLACK_WEBHOOK_URL": "https://hooks.slack.test/x", "ARCHIVE_HMAC_SECRET": "s", "ARCHIVE_WHSEC": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
	cfg, err := Load(viper.New(), "../../config.example.yaml", func(n string) (string, bool) { v, ok := env[n]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Subscriptions) != 2 || cfg.Subscriptions[0].Rate != 10 || cfg.SSH.MaxSessions != 16 {
		t.Errorf("example config = %+v", cfg)
	}
	// Paths in a config file are relative to the file, not the working
	// directory.
	if want := filepath.Join("..", "..", "authorized_keys"); cfg.SSH.AuthorizedKeys != want {
		t.Errorf("ssh.authorized_keys = %q, want %q", cfg.SSH.AuthorizedKeys, want)
	}
	// Every key the loader knows appears in the example.
	data, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if !strings.Contains(string(data), k+":") {
				t.Errorf("config.example.yaml does not document %s%s", prefix, k)
			}
			if sub, ok := v.(map[string]any); ok {
				walk(prefix+k+".", sub)
			}
		}
	}
	walk("", schema)
}

// TestAdminTokenRules: a configured admin token shorter than 16 characters,
// or one an Authorization header cannot carry, is refused at load, naming
// admin.token and never echoing the value.
func TestAdminTokenRules(t *testing.T) {
	tests := []struct {
		name, yaml string
		env        map[string]string
		wantErr    string // "" when it must load
	}{
		{name: "none (one is generated)", yaml: "admin:\n  token: \"\"\n"},
		{name: "one character", yaml: "admin:\n  token: x\n", wantErr: "admin.token: is 1 characters, expected at least 16"},
		{name: "15 characters", yaml: "admin:\n  token: abcdefghijklmno\n", wantErr: "admin.token: is 15 characters, expected at least 16"},
		{name: "16 characters", yaml: "admin:\n  token: abcdefghijklmnop\n"},
		{name: "short, from the environment", yaml: "admin:\n  token: env:TOK\n", env: map[string]string{"TOK": "short"}, wantErr: "admin.token: is 5 characters"},
		{name: "long, from the environment", yaml: "admin:\n  token: env:TOK\n", env: map[string]string{"TOK": strings.Repeat("k", 64)}},
		{name: "with a space", yaml: "admin:\n  token: \"abcdefgh ijklmnopq\"\n", wantErr: "admin.token: contains spaces or control characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.yaml, tc.env, nil)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("load: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("load error = %v, want one containing %q", err, tc.wantErr)
			case tc.wantErr != "" && strings.Contains(err.Error(), "abcdefghijklmno"):
				t.Fatalf("the error shows the token: %v", err)
			}
		})
	}
}
