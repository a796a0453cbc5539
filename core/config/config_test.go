package config

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
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
    max_in_flight: 8
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
	if cfg.Webhook.MaxBody != 512<<10 || cfg.Webhook.MaxInFlight != 8 || cfg.Webhook.MaxEntries != 1000 {
		t.Errorf("max body = %d, max in flight = %d, max entries = %d (default 1000)", cfg.Webhook.MaxBody, cfg.Webhook.MaxInFlight, cfg.Webhook.MaxEntries)
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
sources:
  webhook:
    max_in_flight: 0
`
	_, err := load(t, bad, nil, nil)
	ps, ok := err.(Problems)
	if !ok {
		t.Fatalf("err = %v (%T), want Problems", err, err)
	}
	want := []string{
		`auditrelay.yaml:2:1: sourcez: unknown setting`,
		`auditrelay.yaml:4:12: sqlite.wal_max: expected a size of at least 4MiB, got 1MiB`,
		`auditrelay.yaml:6:12: delivery.timeout: expected a duration with a unit such as 30s, 5m or 7d, got "10"`,
		`auditrelay.yaml:8:13: delivery.retry.jitter: expected a fraction in [0, 1) such as 0.2, got "2"`,
		`auditrelay.yaml:13:14: subscriptions[0].vars.token: environment variable MISSING is not set`,
		`auditrelay.yaml:14:17: subscriptions[0].rate_limit: expected a rate such as 10/s`,
		`auditrelay.yaml:15:5: subscriptions[0].colour: unknown subscription setting`,
		`auditrelay.yaml:16:5: subscriptions[1].name: "a" is already used by subscriptions[0]`,
		`auditrelay.yaml:16:5: subscriptions[1].integration: every subscription needs an integration`,
		`auditrelay.yaml:17:5: subscriptions[2].name: every subscription needs a name`,
		`auditrelay.yaml:18:18: subscriptions[2].concurrency: expected an integer ≥ 1, got "zero"`,
		`auditrelay.yaml:21:20: sources.webhook.max_in_flight: expected an integer ≥ 1, got "0"`,
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
	// It runs as copied: no environment variable is needed.
	cfg, err := Load(viper.New(), "../../config.example.yaml", func(string) (string, bool) { return "", false })
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
	// Every setting the loader knows is written in the example, at its
	// place, and every subscription setting at least in a comment.
	data, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	root, err := parseYAML(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings(&Config{}) {
		if lookupPath(root, s.key) == nil {
			t.Errorf("config.example.yaml does not set %s", s.key)
		}
	}
	l := loader{}
	for _, s := range l.subscriptionSettings(&Subscription{}) {
		if !strings.Contains(string(data), s.key+":") {
			t.Errorf("config.example.yaml does not document subscriptions[].%s", s.key)
		}
	}
}

func TestLoadTargets(t *testing.T) {
	cfg, err := load(t, `delivery:
  allowed_targets: [10.0.0.0/8, "203.0.113.7", "::ffff:192.168.0.0/112"]
  denied_targets:
    - 10.9.0.0/16
    - fd00::/8
`, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range cfg.Delivery.AllowedTargets {
		got = append(got, p.String())
	}
	for _, p := range cfg.Delivery.DeniedTargets {
		got = append(got, p.String())
	}
	if want := "10.0.0.0/8 203.0.113.7/32 192.168.0.0/16 10.9.0.0/16 fd00::/8"; strings.Join(got, " ") != want {
		t.Errorf("targets = %v, want %s", got, want)
	}

	// From the environment (or a flag): one string, commas or spaces.
	cfg, err = load(t, "", nil, map[string]any{"delivery.denied_targets": "127.0.0.0/8, ::1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Delivery.DeniedTargets) != 2 || cfg.Delivery.DeniedTargets[1].String() != "::1/128" {
		t.Errorf("denied from a string = %v", cfg.Delivery.DeniedTargets)
	}
}

func TestLoadTargetsProblems(t *testing.T) {
	_, err := load(t, `delivery:
  allowed_targets:
    - 10.0.0.0/8
    - internal.example.com
  denied_targets: [10.1.2.3/8, "fe80::1%eth0", 10.0.0.0/8]
`, nil, nil)
	ps, ok := err.(Problems)
	if !ok {
		t.Fatalf("err = %v (%T), want Problems", err, err)
	}
	want := []string{
		`auditrelay.yaml:4:7: delivery.allowed_targets[1]: expected a CIDR range such as 10.0.0.0/8 or fd00::/8, or an IP address, got "internal.example.com"`,
		`auditrelay.yaml:5:20: delivery.denied_targets[0]: 10.1.2.3/8 has bits set past the /8 prefix: did you mean 10.0.0.0/8 (the range) or 10.1.2.3/32 (the address)?`,
		`auditrelay.yaml:5:32: delivery.denied_targets[1]: expected a CIDR range`,
		`auditrelay.yaml:3:7: delivery.allowed_targets[0]: 10.0.0.0/8 is also delivery.denied_targets[2]`,
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

// TestRenderBudgetAndPoison: the render budget and the poison rule have
// defaults, a subscription may set its own budget, and a budget larger
// than what the relay may send is refused where it is written.
func TestRenderBudgetAndPoison(t *testing.T) {
	cfg, err := load(t, `subscriptions:
  - name: a
    integration: slack
  - name: b
    integration: slack
    render: {max_output: 2MiB}
`, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Delivery
	if d.MaxRequestBody != 5<<20 || d.PoisonAfter != 3 || d.Render != (RenderBudget{MaxOutput: 1 << 20, MaxSteps: 1_000_000}) {
		t.Fatalf("defaults: max_request_body %d, poison_after %d, render %+v", d.MaxRequestBody, d.PoisonAfter, d.Render)
	}
	if got := cfg.Subscriptions[0].Render; got != d.Render {
		t.Errorf("subscription without render: %+v, want delivery.render", got)
	}
	if got := cfg.Subscriptions[1].Render; got != (RenderBudget{MaxOutput: 2 << 20, MaxSteps: 1_000_000}) {
		t.Errorf("subscription with max_output: %+v", got)
	}

	cfg, err = load(t, `delivery:
  max_request_body: 10MiB
  poison_after: 5
  render: {max_output: 8MiB, max_steps: 5000}
subscriptions:
  - name: a
    integration: slack
    render:
      max_steps: 2000
`, nil, map[string]any{"delivery.poison_after": 2})
	if err != nil {
		t.Fatal(err)
	}
	if d := cfg.Delivery; d.MaxRequestBody != 10<<20 || d.PoisonAfter != 2 || d.Render != (RenderBudget{MaxOutput: 8 << 20, MaxSteps: 5000}) {
		t.Fatalf("set: %+v", d)
	}
	if got := cfg.Subscriptions[0].Render; got != (RenderBudget{MaxOutput: 8 << 20, MaxSteps: 2000}) {
		t.Errorf("subscription max_steps over delivery.render: %+v", got)
	}

	_, err = load(t, `delivery:
  poison_after: 0
  render: {max_output: 6MiB, max_steps: 10}
subscriptions:
  - name: a
    integration: slack
    render:
      max_output: 64MiB
      max_steps: 1
      colour: red
  - name: b
    integration: slack
    render: 1MiB
`, nil, nil)
	var got []string
	for _, p := range err.(Problems) {
		got = append(got, p.Error())
	}
	for _, want := range []string{
		`auditrelay.yaml:2:17: delivery.poison_after: expected an integer ≥ 1, got "0"`,
		`auditrelay.yaml:3:41: delivery.render.max_steps: expected an integer ≥ 1000, got "10"`,
		`auditrelay.yaml:3:24: delivery.render.max_output: 6MiB is more than delivery.max_request_body (5MiB): a rendered body must fit what the relay may send; raise delivery.max_request_body too`,
		`auditrelay.yaml:8:19: subscriptions[0].render.max_output: 64MiB is more than delivery.max_request_body (5MiB)`,
		`auditrelay.yaml:9:18: subscriptions[0].render.max_steps: expected an integer ≥ 1000, got "1"`,
		`auditrelay.yaml:10:7: subscriptions[0].render.colour: unknown render setting (known: max_output, max_steps)`,
		`auditrelay.yaml:13:13: subscriptions[1].render: expected a mapping with max_output and/or max_steps, found "1MiB"`,
	} {
		found := false
		for _, g := range got {
			found = found || strings.Contains(g, want)
		}
		if !found {
			t.Errorf("no problem %q in:\n%s", want, strings.Join(got, "\n"))
		}
	}
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

// TestDefaults: the defaults, read from the settings table in the file's
// own syntax, are what config.example.yaml and the package docs say.
func TestDefaults(t *testing.T) {
	c := Defaults()
	want := Config{
		DataDir: "./auditrelay-data",
		BaseURL: "https://app.launchdarkly.com",
		SQLite:  SQLite{Synchronous: "normal", WALMax: 256 << 20},
		Log:     Log{Level: "info", Format: "text", RepeatWindow: 10 * time.Second},
		HTTP:    HTTP{Listen: "127.0.0.1:8080"},
		Admin:   Admin{Listen: "127.0.0.1:8081"},
		Webhook: Webhook{Enabled: true, Path: "/v1/launchdarkly", MaxBody: 1 << 20, MaxEntries: 1000, MaxInFlight: 32, StoreTimeout: 5 * time.Second},
		Poller:  Poller{BaseURL: "https://app.launchdarkly.com", Interval: 30 * time.Second, Limit: 20},
		Delivery: Delivery{
			Timeout: 15 * time.Second, ConnectTimeout: 5 * time.Second,
			MaxResponseBody: 64 << 10, MaxRequestBody: 5 << 20,
			Schedule: []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute,
				30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 12 * time.Hour},
			Jitter: 0.2, MaxRetryAfter: 24 * time.Hour, Lease: 45 * time.Second,
			Render:      RenderBudget{MaxOutput: 1 << 20, MaxSteps: 1_000_000},
			PoisonAfter: 3,
		},
		Retention: Retention{MaxAge: 7 * 24 * time.Hour, FailedMaxAge: 30 * 24 * time.Hour, MaxEntries: 1_000_000, Interval: time.Minute},
		SSH:       SSH{MaxSessions: 16, IdleTimeout: 30 * time.Minute},
		Runtime:   Runtime{GCPercent: 400, MemoryLimit: 96 << 20},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Defaults() =\n%+v\nwant\n%+v", c, want)
	}
	// core/delivery's documentation explains this total.
	var total time.Duration
	for _, d := range c.Delivery.Schedule {
		total += d
	}
	if want := 27*time.Hour + 42*time.Minute + 35*time.Second; total != want {
		t.Errorf("default schedule totals %s, want %s", total, want)
	}
	// Every key is written once, and so is every flag.
	keys, flags := map[string]bool{}, map[string]bool{}
	for _, s := range settings(&Config{}) {
		if keys[s.key] || (s.flag != "" && flags[s.flag]) {
			t.Errorf("%s (flag %q) is declared twice", s.key, s.flag)
		}
		keys[s.key], flags[s.flag] = true, s.flag != ""
	}
}

// TestSettingValues: every duration takes the one grammar (d included, a
// bare 0 too), lists come from YAML or from one string, and values mean
// what they say (jitter 0 is none, an empty schedule is no retries).
func TestSettingValues(t *testing.T) {
	cfg, err := load(t, `log:
  repeat_window: 0
retention:
  max_age: 7d
  failed_max_age: 1d12h
  interval: 0
delivery:
  retry:
    schedule: [90s, 1d]
    jitter: 0
    max_retry_after: 0
integrations_dirs: [a, b]
`, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log.RepeatWindow != 0 || cfg.Retention.MaxAge != 7*24*time.Hour || cfg.Retention.FailedMaxAge != 36*time.Hour || cfg.Retention.Interval != 0 {
		t.Errorf("durations: repeat_window %s, max_age %s, failed_max_age %s", cfg.Log.RepeatWindow, cfg.Retention.MaxAge, cfg.Retention.FailedMaxAge)
	}
	if d := cfg.Delivery; !slices.Equal(d.Schedule, []time.Duration{90 * time.Second, 24 * time.Hour}) || d.Jitter != 0 || d.MaxRetryAfter != 0 {
		t.Errorf("retry: %v jitter %v max_retry_after %s", d.Schedule, d.Jitter, d.MaxRetryAfter)
	}
	if len(cfg.IntegrationsDirs) != 2 || cfg.IntegrationsDirs[1] != filepath.Join(filepath.Dir(cfg.File), "b") {
		t.Errorf("integrations_dirs = %v", cfg.IntegrationsDirs)
	}

	// From the environment or a flag: one string.
	cfg, err = load(t, "", nil, map[string]any{"delivery.retry.schedule": "5s, 1m 2h", "retention.max_age": "2d", "sources.webhook.enabled": "false"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Delivery.Schedule, []time.Duration{5 * time.Second, time.Minute, 2 * time.Hour}) || cfg.Retention.MaxAge != 48*time.Hour || cfg.Webhook.Enabled {
		t.Errorf("from strings: schedule %v, max_age %s, webhook enabled %v", cfg.Delivery.Schedule, cfg.Retention.MaxAge, cfg.Webhook.Enabled)
	}

	// An empty schedule is no retries, not the default.
	cfg, err = load(t, "delivery:\n  retry:\n    schedule: []\n", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Delivery.Schedule == nil || len(cfg.Delivery.Schedule) != 0 {
		t.Errorf("schedule: [] gave %#v", cfg.Delivery.Schedule)
	}
}

// TestSettingProblems: each bad value is reported with the file, line and
// column of the value, the key and what was expected.
func TestSettingProblems(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"retention:\n  max_age: -1h\n", `auditrelay.yaml:2:12: retention.max_age: expected a duration such as 30s, 5m, 24h or 7d, got "-1h": durations are not negative`},
		{"retention:\n  max_age: 7 days\n", `auditrelay.yaml:2:12: retention.max_age: expected a duration such as 30s, 5m, 24h or 7d, got "7 days"`},
		{"sources:\n  poller:\n    interval: 0\n", `auditrelay.yaml:3:15: sources.poller.interval: expected a duration longer than 0, got "0"`},
		{"sources:\n  webhook:\n    store_timeout: 0s\n", `auditrelay.yaml:3:20: sources.webhook.store_timeout: expected a duration longer than 0, got "0s"`},
		{"sources:\n  webhook:\n    max_body: 0\n", `auditrelay.yaml:3:15: sources.webhook.max_body: expected a size of at least 1 byte, got 0 bytes`},
		{"sources:\n  webhook:\n    max_body: lots\n", `auditrelay.yaml:3:15: sources.webhook.max_body: expected a size such as 1MiB, 64KiB or 4096, got "lots"`},
		{"sources:\n  webhook:\n    path: hook\n", `auditrelay.yaml:3:11: sources.webhook.path: expected a path starting with /, got "hook"`},
		{"sources:\n  webhook:\n    enabled: maybe\n", `auditrelay.yaml:3:14: sources.webhook.enabled: expected true or false, got "maybe"`},
		{"sources:\n  poller:\n    limit: 50\n", `auditrelay.yaml:3:12: sources.poller.limit: LaunchDarkly pages at most 20 entries, got 50`},
		{"sources:\n  poller:\n    limit: 2.5\n", `auditrelay.yaml:3:12: sources.poller.limit: expected an integer ≥ 1, got "2.5"`},
		{"sources:\n  poller:\n    enabled: true\n", `sources.poller.token: the poller is enabled but has no access token`},
		{"log:\n  level: loud\n", `auditrelay.yaml:2:10: log.level: expected debug, info, warn or error, got "loud"`},
		{"log:\n  format: [json]\n", `auditrelay.yaml:2:11: log.format: expected text or json, got a list`},
		{"http:\n  listen: [a, b]\n", `auditrelay.yaml:2:11: http.listen: expected a string, got a list`},
		{"store: mysql://x\n", `auditrelay.yaml:1:8: store: expected empty (embedded SQLite in data_dir), sqlite:PATH or a postgres:// URL, got "mysql://x"`},
		{"delivery:\n  retry:\n    schedule: [5s, 0s, 3]\n", `auditrelay.yaml:3:20: delivery.retry.schedule[1]: expected a positive duration such as 30s or 2h, got "0s"`},
		{"delivery:\n  retry:\n    schedule: [5s, 0s, 3]\n", `auditrelay.yaml:3:24: delivery.retry.schedule[2]: expected a duration with a unit such as 30s, 5m or 7d, got "3"`},
		{"delivery:\n  lease: 10s\n", `auditrelay.yaml:2:10: delivery.lease: must be longer than delivery.timeout (15s), got 10s`},
		{"delivery:\n  max_request_body: 512KiB\n", `delivery.render.max_output: 1MiB is more than delivery.max_request_body (512KiB)`},
		{"delivery:\n  connect_timeout: 0\n", `auditrelay.yaml:2:20: delivery.connect_timeout: expected a duration longer than 0, got "0"`},
		{"retention:\n  interval: -1m\n", `auditrelay.yaml:2:13: retention.interval: expected a duration such as 30s, 5m, 24h or 7d, got "-1m": durations are not negative`},
		{"sqlite:\n  synchronous: off\n", `auditrelay.yaml:2:16: sqlite.synchronous: expected normal or full, got "off"`},
		{"runtime:\n  memory_limit: 1MiB\n", `auditrelay.yaml:2:17: runtime.memory_limit: expected 0 (no limit) or a size of at least 32MiB, got 1MiB`},
		{"runtime:\n  gc_percent: off\n", `auditrelay.yaml:2:15: runtime.gc_percent: expected an integer ≥ 10, got "off"`},
		{"delivery: 5s\n", `auditrelay.yaml:1:11: delivery: expected a mapping of settings, found "5s"`},
	} {
		_, err := load(t, tc.yaml, nil, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error = %v, want one containing %s", tc.yaml, err, tc.want)
		}
	}
}

// TestOverridesPointNowhereInTheFile: a bad value from a flag or the
// environment is reported by key, not at the file's line for the value it
// replaced.
func TestOverridesPointNowhereInTheFile(t *testing.T) {
	_, err := load(t, "delivery:\n  timeout: 5s\n", nil, map[string]any{"delivery.timeout": "10"})
	ps, ok := err.(Problems)
	if !ok || len(ps) != 1 {
		t.Fatalf("err = %v", err)
	}
	if p := ps[0]; p.Line != 0 || p.Key != "delivery.timeout" || !strings.Contains(p.Msg, `got "10"`) {
		t.Errorf("problem = %+v", p)
	}
}

// TestBind: flags and AUDITRELAY_* variables reach the settings they
// name, flags first.
func TestBind(t *testing.T) {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.String("listen", "", "")
	fs.String("log-level", "", "")
	fs.String("config", "", "")
	if err := fs.Parse([]string{"--listen", ":1234", "--config", "x.yaml"}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AUDITRELAY_SOURCES_WEBHOOK_MAX_ENTRIES", "5")
	t.Setenv("AUDITRELAY_HTTP_LISTEN", ":9")
	t.Setenv("AUDITRELAY_LOG_LEVEL", "debug")
	v := viper.New()
	if err := Bind(v, fs); err != nil {
		t.Fatal(err)
	}
	if got := v.GetString("config"); got != "x.yaml" {
		t.Errorf("config = %q", got)
	}
	cfg, err := Load(v, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Listen != ":1234" || cfg.Log.Level != "debug" || cfg.Webhook.MaxEntries != 5 {
		t.Errorf("listen %q, log level %q, max entries %d", cfg.HTTP.Listen, cfg.Log.Level, cfg.Webhook.MaxEntries)
	}
}

// FuzzLoad: no configuration file makes Load panic or hang, and every
// problem it reports says something, at a line of the file if any.
func FuzzLoad(f *testing.F) {
	example, _ := os.ReadFile("../../config.example.yaml")
	for _, s := range []string{good, string(example), "delivery: {retry: {schedule: [1d, 0, -1s, x]}}", "subscriptions: [{name: a, render: {max_output: [1]}}]", "log: &a {level: *a}", "sqlite: {wal_max: 1e400}"} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(viper.New(), path, func(string) (string, bool) { return "x", true })
		ps, ok := err.(Problems)
		if !ok {
			return
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, p := range ps {
			if p.Msg == "" || p.Line < 0 || p.Line > lines+1 { // yaml may place an error at the end of the stream
				t.Fatalf("problem %+v in a file of %d lines", p, lines)
			}
		}
	})
}

// TestFlagPathsRelativeToWorkingDirectory: a relative path written in the
// file is relative to the file; the same setting from a flag is relative
// to the working directory (the README's `--authorized-keys keys` next to
// a config file elsewhere).
func TestFlagPathsRelativeToWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "auditrelay.yaml")
	if err := os.WriteFile(path, []byte("ssh:\n  authorized_keys: file-keys\n  host_key: host\nintegrations_dirs: [ints]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.String("authorized-keys", "", "")
	fs.String("integrations-dir", "", "")
	if err := fs.Parse([]string{"--authorized-keys", "keys"}); err != nil {
		t.Fatal(err)
	}
	v := viper.New()
	if err := Bind(v, fs); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(v, path, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(wd, "keys"); cfg.SSH.AuthorizedKeys != want {
		t.Errorf("--authorized-keys keys = %q, want %q (the working directory)", cfg.SSH.AuthorizedKeys, want)
	}
	if want := filepath.Join(dir, "host"); cfg.SSH.HostKey != want {
		t.Errorf("ssh.host_key from the file = %q, want %q (next to the file)", cfg.SSH.HostKey, want)
	}
	if want := []string{filepath.Join(dir, "ints")}; !slices.Equal(cfg.IntegrationsDirs, want) {
		t.Errorf("integrations_dirs from the file = %q, want %q", cfg.IntegrationsDirs, want)
	}
	// Loading again with the same viper (a command that loads twice)
	// keeps the flag's reading.
	cfg, err = Load(v, path, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(wd, "keys"); cfg.SSH.AuthorizedKeys != want {
		t.Errorf("second load: --authorized-keys keys = %q, want %q", cfg.SSH.AuthorizedKeys, want)
	}
}
