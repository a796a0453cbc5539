package fakeapi

import (
	"fmt"
	"time"

	"github.com/auditrelay/auditrelay/core/engine/api"
)

// Names in the demo data, for tests that act on them.
const (
	SubSlack   = "slack-prod"
	SubDatadog = "datadog-events"
	SubTeams   = "teams-oncall"
	SubLegacy  = "legacy-webhook"
)

// FailedDelivery is a failed delivery of SubSlack in the demo data.
const FailedDelivery = "dlv_e0028_slack-prod"

// Demo returns a fake holding four subscriptions in every state (healthy
// with two failures, retrying, paused, disabled by a 410) and 30 entries,
// all dated relative to now() so views are stable under a fixed clock.
func Demo(now func() time.Time) *API {
	a := New(now)
	t0 := now()

	a.AddSubscription(api.SubscriptionInfo{
		Name: SubSlack, Integration: "slack", IntegrationName: "Slack", Enabled: true,
		Concurrency: 4, LastStatus: 200, LastAttemptAt: t0.Add(-3 * time.Second),
		PolicyNote: "statement 1 allows flags in production",
	}, api.Form{
		Integration: "slack", Editable: true,
		Fields: []api.FormField{
			{Key: "webhookUrl", Name: "Incoming webhook URL", Type: "uri", Required: true, Secret: true, Value: api.Masked, Set: true,
				Description: "The Slack incoming webhook to post to."},
			{Key: "channel", Name: "Channel", Type: "string", Placeholder: "#alerts", Value: "#launches", Set: true},
			{Key: "mentionOnFail", Name: "Mention on-call", Type: "boolean", Value: "false", Default: "false", Set: true},
			{Key: "format", Name: "Message format", Type: "enum", AllowedValues: []string{"compact", "detailed", "diff"}, Value: "detailed", Set: true},
		},
	}, map[string]string{"webhookUrl": "https://hooks.slack.com/services/T000/B000/XXXXsecret"},
		[]api.TemplateInfo{
			{Key: "flag", Path: "builtin:slack/templates/flag.json.hbs", JSON: true, Editable: true,
				Source: "{\n  \"text\": \"{{title}}\",\n  \"member\": \"{{member.email}}\"\n}\n"},
			{Key: "default", Path: "builtin:slack/templates/default.json.hbs", JSON: true, Editable: true,
				Source: "{\n  \"text\": \"{{kind}}: {{title}}\"\n}\n"},
			{Key: "validation", Path: "builtin:slack/templates/validation.json.hbs", JSON: true, Editable: true,
				Source: "{\n  \"text\": \"auditrelay connected\"\n}\n"},
		})

	a.AddSubscription(api.SubscriptionInfo{
		Name: SubDatadog, Integration: "datadog", IntegrationName: "Datadog", Enabled: true,
		Concurrency: 2, LastStatus: 503, LastError: "503 Service Unavailable", LastAttemptAt: t0.Add(-8 * time.Second),
		NextRetryAt: t0.Add(12 * time.Second), PolicyNote: "no policy: every entry is sent",
	}, api.Form{
		Integration: "datadog", Editable: true,
		Fields: []api.FormField{
			{Key: "apiKey", Name: "API key", Type: "string", Required: true, Secret: true, Value: api.Masked, Set: true, Ref: "env:DD_API_KEY"},
			{Key: "site", Name: "Site", Type: "enum", AllowedValues: []string{"datadoghq.com", "datadoghq.eu", "us3.datadoghq.com"}, Value: "datadoghq.com", Set: true},
			{Key: "tags", Name: "Tags", Type: "string", Placeholder: "team:platform", Value: "", Set: false},
		},
	}, map[string]string{"apiKey": "dd-secret-key"},
		[]api.TemplateInfo{
			{Key: "default", Path: "builtin:datadog/templates/default.json.hbs", JSON: true, Editable: true,
				Source: "{\n  \"title\": \"{{title}}\",\n  \"text\": \"{{kind}} by {{member}}\"\n}\n"},
		})

	a.AddSubscription(api.SubscriptionInfo{
		Name: SubTeams, Integration: "msteams", IntegrationName: "Microsoft Teams", Enabled: true, Paused: true,
		Reason: "maintenance window", UpdatedBy: "alice", UpdatedAt: t0.Add(-40 * time.Minute), Concurrency: 1,
	}, api.Form{
		Integration: "msteams", Editable: true,
		Fields: []api.FormField{{Key: "url", Name: "Webhook URL", Type: "uri", Required: true, Value: "https://example.webhook.office.com/x", Set: true}},
	}, nil, []api.TemplateInfo{{Key: "default", Path: "builtin:msteams/templates/default.json.hbs", JSON: true, Editable: true, Source: "{\"text\": \"{{title}}\"}\n"}})

	a.AddSubscription(api.SubscriptionInfo{
		Name: SubLegacy, Integration: "webhooks", IntegrationName: "Generic webhook", Enabled: true, Disabled: true,
		Reason: "410 Gone", LastStatus: 410, LastError: "410 Gone", LastAttemptAt: t0.Add(-2 * time.Hour), Concurrency: 1,
	}, api.Form{Integration: "webhooks", Editable: false, Note: "no config file: started with --demo"},
		nil, []api.TemplateInfo{{Key: "default", Path: "builtin:webhooks/templates/default.json.hbs", JSON: true, Editable: false, Note: "built-in template, no override directory", Source: "{{{json this}}}\n"}})

	kinds := []string{"flag", "flag", "segment", "flag", "project", "flag", "member", "environment", "flag", "flag"}
	members := []string{"alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"}
	envs := []string{"production", "staging", "production", "test"}
	flags := []string{"new-checkout", "dark-mode", "search-v2", "pricing-page", "beta-banner"}
	for i := range 30 {
		kind := kinds[i%len(kinds)]
		env := envs[i%len(envs)]
		proj := "web"
		if i%3 == 1 {
			proj = "mobile"
		}
		title := ""
		switch kind {
		case "flag":
			title = fmt.Sprintf("Turned %s flag %s in %s", onOff(i), flags[i%len(flags)], env)
		case "segment":
			title = fmt.Sprintf("Added 12 users to segment beta-%d", i)
		case "project":
			title, env = "Updated project "+proj, ""
		case "member":
			title, proj, env = "Invited eve@example.com", "", ""
		case "environment":
			title = "Created environment preview-" + fmt.Sprint(i)
		}
		id := fmt.Sprintf("e%04d", i)
		at := t0.Add(-time.Duration(30-i) * 7 * time.Second)
		slackSent := kind == "flag" && env == "production"
		slackState := api.Delivered
		if i == 20 || i == 28 {
			slackState = api.Failed
		}
		ddState := api.Delivered
		if i >= 27 {
			ddState = api.Pending
		}
		e := api.EntryView{
			ID: id, Date: at, ReceivedAt: at, Source: "demo", Kind: kind, Title: title,
			Member: members[i%len(members)], Project: proj, Environment: env,
			Decisions: []api.Decision{
				{Subscription: SubSlack, Sent: slackSent, State: slackState, Summary: slackSummary(slackSent, proj, env, kind)},
				{Subscription: SubDatadog, Sent: true, State: ddState, Summary: "no policy: every entry is sent"},
				{Subscription: SubTeams, Sent: kind == "flag", State: api.Pending, Summary: teamsSummary(kind)},
				{Subscription: SubLegacy, Sent: kind == "member", State: api.Failed, Summary: legacySummary(kind)},
			},
		}
		a.Ingest(e, "", map[string]string{
			SubSlack:   slackExplain(slackSent, proj, env, kind),
			SubDatadog: "The subscription has no policy, so every entry is sent.",
			SubTeams:   "statement 1: allow actions [*] on resources [proj/*:env/*:flag/*]\n  " + teamsSummary(kind),
			SubLegacy:  "statement 1: allow actions [*] on resources [member/*]\n  " + legacySummary(kind),
		})
	}
	// Attempts for the failed and retrying deliveries, as the engine would
	// have recorded them.
	for _, i := range []int{20, 28} {
		id := fmt.Sprintf("dlv_e%04d_%s", i, SubSlack)
		d := a.dels[id]
		d.DeliveryView.Attempts = 5
		d.LastStatus, d.LastError, d.LastLatency = 500, "500 Internal Server Error", 1200*time.Millisecond
		d.LastAttemptAt = d.UpdatedAt
		for n := 1; n <= 5; n++ {
			d.Attempts = append(d.Attempts, attemptView(d, n, 500, "failed: retries exhausted"))
		}
	}
	for i := 27; i < 30; i++ {
		d := a.dels[fmt.Sprintf("dlv_e%04d_%s", i, SubDatadog)]
		d.DeliveryView.Attempts = 2
		d.NextAttemptAt = t0.Add(12 * time.Second)
		d.LastStatus, d.LastError, d.LastLatency = 503, "503 Service Unavailable", 300*time.Millisecond
		d.Attempts = append(d.Attempts, attemptView(d, 1, 503, "retry in 4s"), attemptView(d, 2, 503, "retry at "+d.NextAttemptAt.Format("15:04:05")))
	}
	for _, d := range a.dels {
		if d.State == api.Delivered {
			d.DeliveryView.Attempts = 1
			d.LastStatus, d.LastLatency, d.LastAttemptAt = 200, 85*time.Millisecond, d.UpdatedAt
			d.Attempts = append(d.Attempts, attemptView(d, 1, 200, "delivered"))
		}
		if d.Subscription == SubLegacy && d.State == api.Failed {
			d.DeliveryView.Attempts = 1
			d.LastStatus, d.LastError = 410, "410 Gone"
			d.Attempts = append(d.Attempts, attemptView(d, 1, 410, "failed: 410 Gone, subscription disabled"))
		}
	}

	series := func(base, amp float64) []float64 {
		out := make([]float64, 60)
		for i := range out {
			out[i] = base + amp*float64((i*7)%11)/10
		}
		return out
	}
	a.SetStats(api.Stats{
		Window:           time.Minute,
		EntriesPerSec:    series(4, 6),
		DeliveriesPerSec: series(8, 10),
		FailuresPerSec:   series(0, 1),
		LatencyP50:       85 * time.Millisecond,
		LatencyP99:       1200 * time.Millisecond,
		Instance:         "relay-1",
		Sources: []api.SourceStatus{
			{Name: "webhook", Connected: true, Detail: "listening on :8080", LastEntry: t0.Add(-7 * time.Second)},
			{Name: "poller", Connected: false, Detail: "429, retry in 20s"},
		},
	})
	a.RecordAction("alice", "pause", SubTeams, "maintenance window")
	return a
}

func attemptView(d *api.DeliveryDetail, n, status int, outcome string) api.AttemptView {
	at := api.AttemptView{
		DeliveryID: d.ID, Subscription: d.Subscription, Number: n, Instance: "relay-1", Trigger: "auto",
		StartedAt: d.UpdatedAt.Add(time.Duration(n-5) * time.Minute), Duration: d.LastLatency, URL: d.Request.URL,
		Template: "builtin:" + d.Subscription + "/flag.json.hbs", StatusCode: status, Outcome: outcome,
		ResponseHeaders: []api.Header{{Name: "Content-Type", Value: "application/json"}},
		ResponseBody:    `{"ok":true}`,
	}
	if status >= 300 {
		at.ErrorClass, at.Error = "status", fmt.Sprintf("endpoint answered %d", status)
		at.ResponseBody = `{"error":"upstream unavailable","retry_after":4}`
	}
	return at
}

func onOff(i int) string {
	if i%2 == 0 {
		return "on"
	}
	return "off"
}

func slackSummary(sent bool, proj, env, kind string) string {
	if sent {
		return "statement 1 allows proj/" + proj + ":env/production:flag/*"
	}
	return fmt.Sprintf("no statement matched %s in proj/%s:env/%s", kind, proj, env)
}

func slackExplain(sent bool, proj, env, kind string) string {
	s := "statement 1: allow actions [*] on resources [proj/*:env/production:flag/*]\n"
	if sent {
		return s + "  matched proj/" + proj + ":env/production:flag/… (action updateOn)"
	}
	return s + fmt.Sprintf("  did not match: the entry is a %s in proj/%s:env/%s\nNo statement allowed the entry, so it is filtered.", kind, proj, env)
}

func legacySummary(kind string) string {
	if kind == "member" {
		return "statement 1 allows member/*"
	}
	return "no statement matched " + kind
}

func teamsSummary(kind string) string {
	if kind == "flag" {
		return "statement 1 allows flag/*"
	}
	return "no statement matched " + kind
}
