package relay

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/auditrelay/auditrelay/core/demo"
	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/auditrelay/auditrelay/core/source"
)

// Demo is what --demo runs besides the engine: local sinks standing in
// for Slack, Teams and a webhook receiver, a generator of entries, and the
// configuration file that points subscriptions at the sinks. Pass it to
// Open in Options.Demo and open the configuration at ConfigFile.
type Demo struct {
	healthy *demo.Sink
	flaky   *demo.Sink
	gen     *demo.Generator
	rate    float64
	// Dir is the demo's data directory (configuration, database, log).
	Dir string
	// ConfigFile is the configuration written for the demo; an existing
	// one (from an earlier run in Dir) is kept.
	ConfigFile string
}

// StartDemo starts the sinks and writes a config file with subscriptions
// that use the built-in integrations and reference-style policies, so
// every pane has work within seconds. dataDir "" means a fresh temporary
// directory; rate is the generator's entries per second; listen is the
// receiver's address.
func StartDemo(dataDir string, rate float64, listen string) (*Demo, error) {
	dir := dataDir
	if dir == "" {
		var err error
		dir, err = os.MkdirTemp("", "auditrelay-demo-")
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	} else if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	healthy, err := demo.StartHealthySink(demo.SinkConfig{Delay: 8 * time.Millisecond})
	if err != nil {
		return nil, fmt.Errorf("demo sink: %w", err)
	}
	fc := demo.FlakyDefaults()
	fc.Hang = 5 * time.Second // longer than the demo's 3s request timeout
	fc.RetryAfter = 3 * time.Second
	flaky, err := demo.StartFlakySink(fc)
	if err != nil {
		healthy.Close()
		return nil, fmt.Errorf("demo sink: %w", err)
	}
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		healthy.Close()
		flaky.Close()
		return nil, err
	}
	d := &Demo{healthy: healthy, flaky: flaky, rate: rate, Dir: dir, gen: demo.NewGenerator(demo.Options{})}
	d.ConfigFile = filepath.Join(dir, "auditrelay.yaml")
	if _, err := os.Stat(d.ConfigFile); os.IsNotExist(err) {
		text := fmt.Sprintf(demoConfig, dir, listen, healthy.URL(), flaky.URL(), "whsec_"+base64.StdEncoding.EncodeToString(secret), flaky.GoneURL())
		if err := os.WriteFile(d.ConfigFile, []byte(text), 0o600); err != nil {
			d.Close()
			return nil, fmt.Errorf("demo config: %w", err)
		}
	}
	return d, nil
}

// Close stops the sinks.
func (d *Demo) Close() {
	d.healthy.Close()
	d.flaky.Close()
}

// demoConfig is the demo's configuration: fast retries so that failures
// turn into retries and deliveries while one watches, and four
// subscriptions that between them show every state.
const demoConfig = `# auditrelay demo configuration (written by auditrelay --demo).
# Edits made in the console (e, t) are saved here.
data_dir: %[1]s
http:
  listen: %[2]s
admin:
  listen: "127.0.0.1:0"
delivery:
  timeout: 3s
  lease: 10s
  retry:
    schedule: [2s, 5s, 15s, 30s, 1m, 5m]
retention:
  max_age: 1h
subscriptions:
  # Production flag changes to a Slack channel (the healthy sink).
  - name: slack-prod-flags
    integration: slack
    vars:
      webhookUrl: %[3]s/slack/T000/B000
    policy:
      - effect: allow
        resources: ["proj/*:env/production:flag/*"]
        actions: ["updateOn", "updateRules", "updateTargets", "updateFallthrough", "updateOffVariation", "createFlag", "deleteFlag", "updateGlobalArchived"]
  # Everything tagged mobile to a Teams channel, except member changes.
  - name: teams-mobile
    integration: msteams-card
    vars:
      webhookUrl: %[3]s/teams/incoming
    policy:
      - effect: allow
        resources: ["proj/*;mobile:env/*:flag/*", "proj/*;mobile:env/*:segment/*", "proj/*;mobile:env/*"]
        actions: ["*"]
      - effect: deny
        resources: ["proj/*:env/test:flag/*"]
        actions: ["*"]
  # Every entry, as LaunchDarkly's own payload, to a flaky archive that
  # answers 500s, 429s and slowly; signed with Standard Webhooks headers.
  - name: audit-archive
    integration: webhook
    vars:
      url: %[4]s/archive
    standard_webhooks_secret: %[5]s
    concurrency: 4
  # An endpoint that was decommissioned: it answers 410 Gone, and the
  # subscription disables itself until resumed.
  - name: legacy-hook
    integration: webhook
    vars:
      url: %[6]s
    policy:
      - effect: allow
        resources: ["proj/*"]
        actions: ["createProject", "deleteProject", "updateProjectName"]
      - effect: allow
        resources: ["proj/*:env/*"]
        actions: ["createEnvironment", "deleteEnvironment"]
      - effect: allow
        resources: ["proj/*:env/*:flag/*"]
        actions: ["createFlag"]
`

// generatorSource feeds the demo generator's entries to the engine.
type generatorSource struct {
	demo *Demo
	ing  source.Ingester
}

func (g *generatorSource) Name() string { return "demo" }

func (g *generatorSource) Run(ctx context.Context) error {
	return g.demo.gen.Run(ctx, g.demo.rate, func(ev demo.Event) error {
		_, err := g.ing.Ingest(ctx, []source.Item{{Raw: ev.Raw, Source: "demo", Ref: ev.ID}}, nil)
		if err != nil && ctx.Err() == nil {
			return nil // the store hiccuped; the demo just moves on
		}
		return ctx.Err()
	})
}

func (g *generatorSource) Status() engine.SourceStatus {
	rate := g.demo.gen.Rate()
	detail := fmt.Sprintf("generating %s entries/s", strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", rate), "0"), "."))
	if rate == 0 {
		detail = "paused (press + to generate)"
	}
	return engine.SourceStatus{Name: "demo", Connected: rate > 0, Detail: detail}
}
