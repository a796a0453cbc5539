package demo

import (
	"fmt"
	"strings"
)

// The demo account: a few projects with tagged environments, realistic
// flags, segments and metrics, and a dozen members. Generated entries
// change it as they go (flags are toggled, created and archived, projects
// and environments created, roles changed), so a stream of entries tells
// a consistent story.

type environment struct {
	key, name string
	tags      []string
}

type flag struct {
	key, name string
	tags      []string
	on        map[string]bool // environment key → targeting on
	rollout   map[string]int  // environment key → % of the first rule
}

type segment struct{ key, name string }

type metric struct{ key, name, kind string }

type project struct {
	key, name string
	tags      []string
	envs      []*environment
	flags     []*flag
	archived  []*flag
	segments  []*segment
	metrics   []*metric
}

type member struct {
	id, first, last, email, role string
}

func (m *member) name() string { return m.first + " " + m.last }

type world struct {
	projects []*project
	members  []*member
}

func standardEnvs() []*environment {
	return []*environment{
		{"production", "Production", []string{"critical"}},
		{"staging", "Staging", []string{"pre-prod"}},
		{"test", "Test", []string{"qa"}},
		{"dev", "Development", []string{"sandbox"}},
	}
}

func newFlag(key, name string, tags ...string) *flag {
	return &flag{key: key, name: name, tags: tags, on: map[string]bool{}, rollout: map[string]int{}}
}

func newWorld() *world {
	w := &world{}
	w.projects = []*project{
		{
			key: "mobile-app", name: "Mobile App", tags: []string{"mobile"}, envs: standardEnvs(),
			flags: []*flag{
				newFlag("new-checkout", "New checkout", "release"),
				newFlag("dark-mode", "Dark mode", "ux"),
				newFlag("push-notifications-v3", "Push notifications v3", "release"),
				newFlag("onboarding-carousel", "Onboarding carousel", "experiment"),
				newFlag("in-app-review-prompt", "In-app review prompt", "experiment"),
				newFlag("kill-switch-recommendations", "Kill switch: recommendations", "ops", "kill-switch"),
			},
			segments: []*segment{{"beta-testers", "Beta testers"}, {"ios-17-users", "iOS 17+ users"}},
			metrics:  []*metric{{"checkout-conversion", "Checkout conversion", "custom"}, {"app-crash-rate", "App crash rate", "custom"}},
		},
		{
			key: "web-storefront", name: "Web Storefront", tags: []string{"web"}, envs: standardEnvs(),
			flags: []*flag{
				newFlag("search-v2", "Search v2", "release"),
				newFlag("guest-checkout", "Guest checkout", "release"),
				newFlag("holiday-banner", "Holiday banner", "marketing"),
				newFlag("ai-product-descriptions", "AI product descriptions", "beta"),
				newFlag("cart-abandonment-email", "Cart abandonment email", "marketing", "experiment"),
				newFlag("cdn-image-resizing", "CDN image resizing", "ops"),
			},
			segments: []*segment{{"eu-customers", "EU customers"}, {"high-value-accounts", "High-value accounts"}},
			metrics:  []*metric{{"page-load-time", "Page load time", "pageview"}, {"search-click-through", "Search click-through", "click"}},
		},
		{
			key: "platform", name: "Platform Services", tags: []string{"platform", "critical"}, envs: standardEnvs(),
			flags: []*flag{
				newFlag("payments-retry-policy", "Payments retry policy", "ops", "payments"),
				newFlag("rate-limit-override", "Rate limit override", "ops"),
				newFlag("use-new-auth-service", "Use new auth service", "migration"),
				newFlag("db-read-replicas", "Read from DB replicas", "ops", "migration"),
				newFlag("circuit-breaker-inventory", "Circuit breaker: inventory", "ops", "kill-switch"),
			},
			segments: []*segment{{"internal-staff", "Internal staff"}},
			metrics:  []*metric{{"api-error-rate", "API error rate", "custom"}, {"p99-latency", "p99 latency", "custom"}},
		},
		{
			key: "data-pipeline", name: "Data Pipeline", tags: []string{"data"},
			envs: []*environment{
				{"production", "Production", []string{"critical"}},
				{"staging", "Staging", []string{"pre-prod"}},
				{"dev", "Development", []string{"sandbox"}},
			},
			flags: []*flag{
				newFlag("streaming-ingest", "Streaming ingest", "release"),
				newFlag("pii-redaction-v2", "PII redaction v2", "compliance"),
				newFlag("backfill-throttle", "Backfill throttle", "ops"),
			},
			segments: []*segment{{"enterprise-tenants", "Enterprise tenants"}},
			metrics:  []*metric{{"ingest-lag", "Ingest lag", "custom"}},
		},
	}
	people := []struct{ first, last, role string }{
		{"Ava", "Chen", "admin"}, {"Marcus", "Okafor", "writer"}, {"Priya", "Raman", "writer"},
		{"Diego", "Alvarez", "writer"}, {"Hannah", "Schmidt", "reader"}, {"Kenji", "Watanabe", "writer"},
		{"Fatima", "Al-Sayed", "admin"}, {"Liam", "O'Brien", "writer"}, {"Sofia", "Rossi", "reader"},
		{"Noah", "Williams", "writer"}, {"Amara", "Nwosu", "writer"}, {"Jonas", "Lindqvist", "reader"},
	}
	for i, p := range people {
		local := strings.ToLower(strings.NewReplacer("'", "", "-", "").Replace(p.first + "." + p.last))
		w.members = append(w.members, &member{
			id:    fmt.Sprintf("5f%022x", 0x4d3c2b1a0000+i*0x1f3),
			first: p.first, last: p.last, role: p.role,
			email: local + "@example.com",
		})
	}
	return w
}

// Pools the generator draws new resources from.
var (
	newFlagPool = []struct{ key, name, tag string }{
		{"beta-ai-assistant", "Beta AI assistant", "beta"},
		{"checkout-upsell", "Checkout upsell", "experiment"},
		{"release-q3-banner", "Q3 release banner", "marketing"},
		{"deep-links", "Deep links", "release"},
		{"edge-caching", "Edge caching", "ops"},
		{"async-exports", "Async exports", "release"},
		{"new-pricing-page", "New pricing page", "experiment"},
		{"grpc-transport", "gRPC transport", "migration"},
		{"sso-enforcement", "SSO enforcement", "security"},
		{"maintenance-mode", "Maintenance mode", "ops"},
	}
	newProjectPool = []struct{ key, name, tag string }{
		{"internal-tools", "Internal Tools", "platform"},
		{"partner-api", "Partner API", "web"},
		{"ml-platform", "ML Platform", "data"},
	}
	newEnvPool = []environment{
		{"qa", "QA", []string{"qa"}},
		{"perf", "Performance", []string{"pre-prod"}},
		{"canary", "Canary", []string{"critical"}},
		{"eu-production", "EU Production", []string{"critical", "eu"}},
	}
	newSegmentPool = []segment{
		{"android-beta", "Android beta"}, {"enterprise-trials", "Enterprise trials"},
		{"vip-support", "VIP support"}, {"churn-risk", "Churn risk"},
	}
	newMetricPool = []metric{
		{"signup-completed", "Signup completed", "custom"}, {"add-to-cart", "Add to cart", "click"},
		{"time-to-first-byte", "Time to first byte", "custom"}, {"error-page-views", "Error page views", "pageview"},
	}
	comments = []string{
		"Rolling out per the release plan",
		"JIRA-4821: enable for beta customers",
		"Mitigation for INC-2291",
		"Cleaning up a stale flag",
		"Approved in change review CR-318",
		"Ramping after a clean canary",
		"Rollback: error rate above SLO",
		"Per security review",
	}
	contextKeys = []string{"user-4821", "user-1193", "acct-7734", "org-acme", "user-0042", "device-9f3a", "acct-5510"}
	attributes  = []struct{ attr, op, values string }{
		{"country", "is one of", "`US`, `CA`"},
		{"email", "ends with", "`@example.com`"},
		{"plan", "is one of", "`enterprise`"},
		{"appVersion", "is greater than or equal to (semver)", "`5.2.0`"},
		{"region", "is one of", "`eu-west-1`, `eu-central-1`"},
	}
)
