package policy

import (
	"slices"
	"strings"
	"testing"
)

// Policies from LaunchDarkly's documentation and from the integrations in
// the integration-framework repository.
const (
	// The defaultPolicy of most reference integrations (datadog, honeycomb, …).
	prodFlags = `[{"effect":"allow","resources":["proj/*:env/production:flag/*"],"actions":["*"]}]`
	// kosli's defaultPolicy.
	kosli = `[{"effect":"allow","actions":["createFlag","updateOn"],"resources":["proj/*:env/*:flag/*"]}]`
	// pagerduty's defaultPolicy, shortened.
	pagerduty = `[
		{"effect":"allow","resources":["proj/*:env/production:flag/*"],"actions":["deleteFlag","updateOn","updateRules","updateTargets"]},
		{"resources":["proj/*:env/production:segment/*"],"effect":"allow","actions":["updateIncluded","updateExcluded","updateRules"]}]`
	// "Example policies": the QA team administers environments tagged qa_*
	// and their flags.
	qaTeam = `[
		{"effect":"allow","actions":["*"],"resources":["proj/*:env/*;qa_*"]},
		{"effect":"allow","actions":["*"],"resources":["proj/*:env/*;qa_*:flag/*"]}]`
	// "Using tags": flags tagged tag1 AND tag2.
	tagAnd = `[{"effect":"allow","actions":["*"],"resources":["proj/*:env/*:flag/*;tag1,tag2"]}]`
	// "Using tags": flags tagged tag1 OR tag2, as two statements.
	tagOr = `[
		{"effect":"allow","actions":["*"],"resources":["proj/*:env/*:flag/*;tag1"]},
		{"effect":"allow","actions":["*"],"resources":["proj/*:env/*:flag/*;tag2"]}]`
	// Allow every flag change except in production (deny overrides).
	allButProd = `[
		{"effect":"allow","resources":["proj/*:env/*:flag/*"],"actions":["*"]},
		{"effect":"deny","resources":["proj/*:env/production:flag/*"],"actions":["*"]}]`
	denyFirst = `[
		{"effect":"deny","resources":["proj/*:env/production:flag/*"],"actions":["*"]},
		{"effect":"allow","resources":["proj/*:env/*:flag/*"],"actions":["*"]}]`
	// "Example policies": deny actions in critical environments.
	critical = `[{"effect":"allow","actions":["*"],"resources":["proj/*:env/*;{critical:true}:flag/*"]}]`
)

type acc struct{ action, resource string }

// why is the structured reason a test expects, on one access and statement.
type why struct {
	access, stmt int
	outcome      Outcome
	code         ReasonCode // for a statement that did not match
	kind         string     // checked when set
	want, got    string     // checked when set (use "-" for an expected empty value)
	field        string     // resource field of the statement, checked when set
	specIndex    int        // index of the specifier that decided, checked when field is set
}

func TestPolicyTable(t *testing.T) {
	tests := []struct {
		name     string
		policy   string
		accesses []acc
		send     bool
		why      why // for a sent entry: the allowing access and statement
	}{
		// Documented default policy: production flags, any action.
		{"default policy: production flag change is sent", prodFlags,
			[]acc{{"updateOn", "proj/default:env/production:flag/demo"}}, true,
			why{access: 0, stmt: 0, outcome: OutcomeAllowed, field: "resources", specIndex: 0}},
		{"default policy: test environment is not sent", prodFlags,
			[]acc{{"updateOn", "proj/default:env/test:flag/demo"}}, false,
			why{access: 0, stmt: 0, outcome: OutcomeNotAllowed, code: ReasonKey, kind: "env", want: "production", got: "test"}},
		{"default policy: a segment is another kind", prodFlags,
			[]acc{{"updateIncluded", "proj/default:env/production:segment/beta"}}, false,
			why{access: 0, stmt: 0, outcome: OutcomeNotAllowed, code: ReasonKind, kind: "segment", want: "flag", got: "segment"}},
		{"default policy: an environment change has fewer segments", prodFlags,
			[]acc{{"updateName", "proj/default:env/production"}}, false,
			why{access: 0, stmt: 0, code: ReasonScope, want: "proj:env:flag", got: "proj:env"}},
		{"default policy: a project change", prodFlags,
			[]acc{{"updateProjectName", "proj/default"}}, false,
			why{access: 0, stmt: 0, code: ReasonScope, want: "proj:env:flag", got: "proj"}},
		{"default policy: a member change", prodFlags,
			[]acc{{"updateRole", "member/5f0c0ffee"}}, false,
			why{access: 0, stmt: 0, code: ReasonScope, got: "member"}},
		{"keys are case-sensitive: Production is not production", prodFlags,
			[]acc{{"updateOn", "proj/default:env/Production:flag/demo"}}, false,
			why{access: 0, stmt: 0, code: ReasonKey, kind: "env", want: "production", got: "Production"}},
		{"all-environments change env/* matches env/production", prodFlags,
			[]acc{{"createFlag", "proj/default:env/*:flag/demo"}}, true,
			why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"all-environments change env/~ matches env/production", prodFlags,
			[]acc{{"updateName", "proj/default:env/~:flag/demo"}}, true,
			why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"~ is special only as an environment key", `[{"effect":"allow","resources":["proj/default:env/*:flag/*"],"actions":["*"]}]`,
			[]acc{{"updateOn", "proj/~:env/production:flag/demo"}}, false,
			why{access: 0, stmt: 0, code: ReasonKey, kind: "proj", want: "default", got: "~"}},
		{"one of two accesses allowed: the entry is sent", prodFlags,
			[]acc{{"updateOn", "proj/default:env/test:flag/demo"}, {"updateOn", "proj/default:env/production:flag/demo"}}, true,
			why{access: 1, stmt: 0, outcome: OutcomeAllowed}},

		// Action specifiers.
		{"kosli: createFlag allowed", kosli,
			[]acc{{"createFlag", "proj/p:env/staging:flag/f"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"kosli: updateRules not in the action list", kosli,
			[]acc{{"updateRules", "proj/p:env/staging:flag/f"}}, false,
			why{access: 0, stmt: 0, code: ReasonAction, want: "createFlag updateOn", got: "updateRules"}},
		{"action glob update* matches updateTargets", `[{"effect":"allow","resources":["proj/*:env/*:flag/*"],"actions":["update*"]}]`,
			[]acc{{"updateTargets", "proj/p:env/e:flag/f"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"action glob update* does not match createFlag", `[{"effect":"allow","resources":["proj/*:env/*:flag/*"],"actions":["update*"]}]`,
			[]acc{{"createFlag", "proj/p:env/e:flag/f"}}, false,
			why{access: 0, stmt: 0, code: ReasonAction, want: "update*", got: "createFlag"}},
		{"action glob *Flag matches deleteFlag", `[{"effect":"allow","resources":["proj/*:env/*:flag/*"],"actions":["*Flag"]}]`,
			[]acc{{"deleteFlag", "proj/p:env/e:flag/f"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"actions are case-sensitive", `[{"effect":"allow","resources":["proj/*:env/*:flag/*"],"actions":["updateon"]}]`,
			[]acc{{"updateOn", "proj/p:env/e:flag/f"}}, false,
			why{access: 0, stmt: 0, code: ReasonAction, got: "updateOn"}},
		{"unknown actions are matched, not rejected", `[{"effect":"allow","resources":["*"],"actions":["frobnicateWidget"]}]`,
			[]acc{{"frobnicateWidget", "proj/p:widget/w"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"action * with an action the docs never listed", prodFlags,
			[]acc{{"updateSomethingNew2030", "proj/p:env/production:flag/f"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},

		// Deny precedence.
		{"deny overrides allow for production", allButProd,
			[]acc{{"updateOn", "proj/p:env/production:flag/f"}}, false,
			why{access: 0, stmt: 1, outcome: OutcomeDenied}},
		{"deny does not touch other environments", allButProd,
			[]acc{{"updateOn", "proj/p:env/test:flag/f"}}, true,
			why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"statement order does not matter: deny first", denyFirst,
			[]acc{{"updateOn", "proj/p:env/production:flag/f"}}, false,
			why{access: 0, stmt: 0, outcome: OutcomeDenied}},
		{"statement order does not matter: allow second", denyFirst,
			[]acc{{"updateOn", "proj/p:env/test:flag/f"}}, true,
			why{access: 0, stmt: 1, outcome: OutcomeAllowed}},
		{"deny one action", `[{"effect":"allow","resources":["proj/*:env/*:flag/*"],"actions":["*"]},{"effect":"deny","resources":["proj/*:env/*:flag/*"],"actions":["deleteFlag"]}]`,
			[]acc{{"deleteFlag", "proj/p:env/e:flag/f"}}, false, why{access: 0, stmt: 1, outcome: OutcomeDenied}},
		{"deny one action lets others through", `[{"effect":"allow","resources":["proj/*:env/*:flag/*"],"actions":["*"]},{"effect":"deny","resources":["proj/*:env/*:flag/*"],"actions":["deleteFlag"]}]`,
			[]acc{{"updateOn", "proj/p:env/e:flag/f"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"a deny-only policy sends nothing", `[{"effect":"deny","resources":["*"],"actions":["*"]}]`,
			[]acc{{"updateOn", "proj/p:env/e:flag/f"}}, false, why{access: 0, stmt: 0, outcome: OutcomeDenied}},
		{"nothing is allowed by default", `[{"effect":"deny","resources":["proj/*:env/production:flag/*"],"actions":["*"]}]`,
			[]acc{{"updateOn", "proj/p:env/test:flag/f"}}, false,
			why{access: 0, stmt: 0, outcome: OutcomeNotAllowed, code: ReasonKey, want: "production", got: "test"}},
		{"a denied access does not stop another allowed one", allButProd,
			[]acc{{"updateOn", "proj/p:env/production:flag/f"}, {"updateOn", "proj/p:env/test:flag/f"}}, true,
			why{access: 1, stmt: 0, outcome: OutcomeAllowed}},
		{"an all-environments change is denied by a production deny", allButProd,
			[]acc{{"createFlag", "proj/p:env/*:flag/f"}}, false, why{access: 0, stmt: 1, outcome: OutcomeDenied}},

		// notResources and notActions.
		{"notResources: other environments are sent", `[{"effect":"allow","notResources":["proj/*:env/production:flag/*"],"actions":["*"]}]`,
			[]acc{{"updateOn", "proj/p:env/test:flag/f"}}, true,
			why{access: 0, stmt: 0, outcome: OutcomeAllowed, field: "notResources", specIndex: -1}},
		{"notResources: the excluded resource is not sent", `[{"effect":"allow","notResources":["proj/*:env/production:flag/*"],"actions":["*"]}]`,
			[]acc{{"updateOn", "proj/p:env/production:flag/f"}}, false,
			why{access: 0, stmt: 0, code: ReasonExcludedResource, want: "proj/*:env/production:flag/*", got: "proj/p:env/production:flag/f"}},
		{"notResources covers every other kind too", `[{"effect":"allow","notResources":["proj/*:env/production:flag/*"],"actions":["*"]}]`,
			[]acc{{"updateRole", "member/abc"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"notResources with an empty resources list", `[{"effect":"allow","resources":[],"notResources":["proj/*:env/production:flag/*"],"actions":["*"]}]`,
			[]acc{{"updateOn", "proj/p:env/test:flag/f"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"notActions: other actions are sent", `[{"effect":"allow","resources":["proj/*:env/*:flag/*"],"notActions":["deleteFlag"]}]`,
			[]acc{{"updateOn", "proj/p:env/e:flag/f"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"notActions: the excluded action is not sent", `[{"effect":"allow","resources":["proj/*:env/*:flag/*"],"notActions":["deleteFlag"]}]`,
			[]acc{{"deleteFlag", "proj/p:env/e:flag/f"}}, false,
			why{access: 0, stmt: 0, code: ReasonExcludedAction, want: "deleteFlag", got: "deleteFlag"}},
		{"notActions glob update* excludes updateOn", `[{"effect":"allow","resources":["proj/*:env/*:flag/*"],"notActions":["update*"]}]`,
			[]acc{{"updateOn", "proj/p:env/e:flag/f"}}, false,
			why{access: 0, stmt: 0, code: ReasonExcludedAction, want: "update*", got: "updateOn"}},
		{"notActions glob update* lets createFlag through", `[{"effect":"allow","resources":["proj/*:env/*:flag/*"],"notActions":["update*"]}]`,
			[]acc{{"createFlag", "proj/p:env/e:flag/f"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"deny with notActions: everything but updateOn is denied", `[{"effect":"allow","resources":["proj/*:env/*:flag/*"],"actions":["*"]},{"effect":"deny","resources":["proj/*:env/production:flag/*"],"notActions":["updateOn"]}]`,
			[]acc{{"updateRules", "proj/p:env/production:flag/f"}}, false, why{access: 0, stmt: 1, outcome: OutcomeDenied}},
		{"deny with notActions: updateOn still goes out", `[{"effect":"allow","resources":["proj/*:env/*:flag/*"],"actions":["*"]},{"effect":"deny","resources":["proj/*:env/production:flag/*"],"notActions":["updateOn"]}]`,
			[]acc{{"updateOn", "proj/p:env/production:flag/f"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"deny with notResources: only production flags survive", `[{"effect":"allow","resources":["*"],"actions":["*"]},{"effect":"deny","notResources":["proj/*:env/production:flag/*"],"actions":["*"]}]`,
			[]acc{{"updateOn", "proj/p:env/test:flag/f"}}, false, why{access: 0, stmt: 1, outcome: OutcomeDenied}},
		{"deny with notResources: production flag is sent", `[{"effect":"allow","resources":["*"],"actions":["*"]},{"effect":"deny","notResources":["proj/*:env/production:flag/*"],"actions":["*"]}]`,
			[]acc{{"updateOn", "proj/p:env/production:flag/f"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},

		// Tags.
		{"tags AND: both tags present", tagAnd,
			[]acc{{"updateOn", "proj/p:env/e:flag/f;tag1,tag2"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"tags AND: one tag missing", tagAnd,
			[]acc{{"updateOn", "proj/p:env/e:flag/f;tag1"}}, false,
			why{access: 0, stmt: 0, code: ReasonTag, kind: "flag", want: "tag2", got: "tag1"}},
		{"tags: an access without tags never matches a tag filter", tagAnd,
			[]acc{{"updateOn", "proj/p:env/e:flag/f"}}, false,
			why{access: 0, stmt: 0, code: ReasonTag, kind: "flag", want: "tag1", got: "-"}},
		{"tags OR: second statement allows tag2", tagOr,
			[]acc{{"updateOn", "proj/p:env/e:flag/f;tag2"}}, true, why{access: 0, stmt: 1, outcome: OutcomeAllowed}},
		{"tags are case-insensitive", `[{"effect":"allow","actions":["*"],"resources":["proj/*;Mobile:env/*:flag/*"]}]`,
			[]acc{{"updateOn", "proj/app;mobile:env/e:flag/f"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"tag globs are case-insensitive", `[{"effect":"allow","actions":["*"],"resources":["proj/*:env/*;QA_*:flag/*"]}]`,
			[]acc{{"updateOn", "proj/app:env/e;qa_test:flag/f"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"QA team: environment tagged qa_test", qaTeam,
			[]acc{{"updateName", "proj/p:env/staging;qa_test"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"QA team: flag in an environment tagged qa_prod", qaTeam,
			[]acc{{"updateOn", "proj/p:env/staging;qa_prod:flag/f"}}, true, why{access: 0, stmt: 1, outcome: OutcomeAllowed}},
		{"QA team: flag in an untagged environment", qaTeam,
			[]acc{{"updateOn", "proj/p:env/staging:flag/f"}}, false,
			why{access: 0, stmt: 1, code: ReasonTag, kind: "env", want: "qa_*", got: "-"}},
		{"QA team: tag qa without underscore does not match qa_*", qaTeam,
			[]acc{{"updateOn", "proj/p:env/staging;qa:flag/f"}}, false,
			why{access: 0, stmt: 1, code: ReasonTag, kind: "env", want: "qa_*", got: "qa"}},
		{"project tag in a nested scope", `[{"effect":"allow","actions":["*"],"resources":["proj/*;mobile:env/*;qa,dev:flag/*"]}]`,
			[]acc{{"updateOn", "proj/app;mobile:env/e;dev:flag/f"}}, false,
			why{access: 0, stmt: 0, code: ReasonTag, kind: "env", want: "qa", got: "dev"}},
		{"project tag missing", `[{"effect":"allow","actions":["*"],"resources":["proj/*;mobile:env/*:flag/*"]}]`,
			[]acc{{"updateOn", "proj/app;web:env/e:flag/f"}}, false,
			why{access: 0, stmt: 0, code: ReasonTag, kind: "proj", want: "mobile", got: "web"}},
		{"an all-environments change satisfies environment tags", qaTeam,
			[]acc{{"createFlag", "proj/p:env/*:flag/f"}}, true, why{access: 0, stmt: 1, outcome: OutcomeAllowed}},

		// Property-based selectors.
		{"critical environment selector", critical,
			[]acc{{"updateOn", "proj/p:env/prod;{critical:true}:flag/f"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"critical selector absent on the access", critical,
			[]acc{{"updateOn", "proj/p:env/prod:flag/f"}}, false,
			why{access: 0, stmt: 0, code: ReasonProperty, kind: "env", want: "{critical:true}"}},
		{"critical selector with another value", critical,
			[]acc{{"updateOn", "proj/p:env/dev;{critical:false}:flag/f"}}, false,
			why{access: 0, stmt: 0, code: ReasonProperty, kind: "env", want: "{critical:true}", got: "{critical:false}"}},
		{"an all-environments change satisfies the critical selector", critical,
			[]acc{{"deleteFlag", "proj/p:env/*:flag/f"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"view selector", `[{"effect":"allow","actions":["*"],"resources":["proj/*:env/*:flag/*;view:checkout"]}]`,
			[]acc{{"updateOn", "proj/p:env/e:flag/f;view:checkout"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"view selector with another view", `[{"effect":"allow","actions":["*"],"resources":["proj/*:env/*:flag/*;view:checkout"]}]`,
			[]acc{{"updateOn", "proj/p:env/e:flag/f;view:search"}}, false,
			why{access: 0, stmt: 0, code: ReasonProperty, kind: "flag", want: "view:checkout", got: "view:search"}},

		// Key globs.
		{"key prefix glob ops_*", `[{"effect":"allow","actions":["*"],"resources":["proj/*:env/*:flag/ops_*"]}]`,
			[]acc{{"updateOn", "proj/p:env/e:flag/ops_kill_switch"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"key prefix glob does not match", `[{"effect":"allow","actions":["*"],"resources":["proj/*:env/*:flag/ops_*"]}]`,
			[]acc{{"updateOn", "proj/p:env/e:flag/billing"}}, false,
			why{access: 0, stmt: 0, code: ReasonKey, kind: "flag", want: "ops_*", got: "billing"}},
		{"environment prefix glob prod-*", `[{"effect":"allow","actions":["*"],"resources":["proj/*:env/prod-*:flag/*"]}]`,
			[]acc{{"updateOn", "proj/p:env/prod-eu:flag/f"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"prod-* needs the dash", `[{"effect":"allow","actions":["*"],"resources":["proj/*:env/prod-*:flag/*"]}]`,
			[]acc{{"updateOn", "proj/p:env/prod:flag/f"}}, false,
			why{access: 0, stmt: 0, code: ReasonKey, kind: "env", want: "prod-*", got: "prod"}},
		{"infix glob", `[{"effect":"allow","actions":["*"],"resources":["proj/*:env/*:flag/*-beta-*"]}]`,
			[]acc{{"updateOn", "proj/p:env/e:flag/new-beta-ui"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"? is literal, not a wildcard", `[{"effect":"allow","actions":["*"],"resources":["proj/*:env/*:flag/a?c"]}]`,
			[]acc{{"updateOn", "proj/p:env/e:flag/abc"}}, false,
			why{access: 0, stmt: 0, code: ReasonKey, kind: "flag", want: "a?c", got: "abc"}},
		{"project keys are case-sensitive", `[{"effect":"allow","actions":["*"],"resources":["proj/Default:env/*:flag/*"]}]`,
			[]acc{{"updateOn", "proj/default:env/e:flag/f"}}, false,
			why{access: 0, stmt: 0, code: ReasonKey, kind: "proj", want: "Default", got: "default"}},

		// Resource kinds and scopes.
		{"bare * names every resource", `[{"effect":"allow","resources":["*"],"actions":["*"]}]`,
			[]acc{{"updateRole", "member/abc"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"bare * with a production deny", `[{"effect":"allow","resources":["*"],"actions":["*"]},{"effect":"deny","resources":["proj/*:env/production:flag/*"],"actions":["*"]}]`,
			[]acc{{"updateOn", "proj/p:env/production:flag/f"}}, false, why{access: 0, stmt: 1, outcome: OutcomeDenied}},
		{"acct names the account", `[{"effect":"allow","resources":["acct"],"actions":["*"]}]`,
			[]acc{{"updateOrganization", "acct"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"acct does not name a project", `[{"effect":"allow","resources":["acct"],"actions":["*"]}]`,
			[]acc{{"updateProjectName", "proj/p"}}, false, why{access: 0, stmt: 0, code: ReasonKind, want: "acct", got: "proj"}},
		{"member tokens are nested in members", `[{"effect":"allow","resources":["member/*:token/*"],"actions":["*"]}]`,
			[]acc{{"createAccessToken", "member/5f0c:token/abc"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"a member is not a member token", `[{"effect":"allow","resources":["member/*:token/*"],"actions":["*"]}]`,
			[]acc{{"updateRole", "member/5f0c"}}, false, why{access: 0, stmt: 0, code: ReasonScope, want: "member:token", got: "member"}},
		{"metrics are project-scoped", `[{"effect":"allow","resources":["proj/*:metric/*"],"actions":["*"]}]`,
			[]acc{{"createMetric", "proj/p:metric/clicks"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"a parent specifier does not cover children", `[{"effect":"allow","resources":["proj/*"],"actions":["*"]}]`,
			[]acc{{"updateOn", "proj/p:env/e:flag/f"}}, false, why{access: 0, stmt: 0, code: ReasonScope, want: "proj", got: "proj:env:flag"}},
		{"an extra segment is a scope mismatch", prodFlags,
			[]acc{{"updateOn", "proj/p:env/production:flag/f:variation/1"}}, false, why{access: 0, stmt: 0, code: ReasonScope}},
		{"unknown kinds are matched literally", `[{"effect":"allow","resources":["proj/*:widget/*"],"actions":["*"]}]`,
			[]acc{{"createWidget", "proj/p:widget/w"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"newer kinds: holdouts in environments", `[{"effect":"allow","resources":["proj/*:env/*:holdout/*"],"actions":["*"]}]`,
			[]acc{{"createHoldout", "proj/p:env/e:holdout/h"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"newer kinds: AI configs in projects", `[{"effect":"allow","resources":["proj/*:aiconfig/*"],"actions":["*"]}]`,
			[]acc{{"createAIConfig", "proj/p:aiconfig/chat"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"top-level kinds: relay proxy configs", `[{"effect":"allow","resources":["relay-proxy-config/*"],"actions":["*"]}]`,
			[]acc{{"createRelayAutoConfiguration", "relay-proxy-config/abc"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"top-level kinds: a webhook is not an integration", `[{"effect":"allow","resources":["integration/*"],"actions":["*"]}]`,
			[]acc{{"updateUrl", "webhook/abc"}}, false, why{access: 0, stmt: 0, code: ReasonKind, want: "integration", got: "webhook"}},
		{"the closest specifier explains the miss", `[{"effect":"allow","resources":["proj/*:env/*:segment/*","proj/*:env/production:flag/*"],"actions":["*"]}]`,
			[]acc{{"updateOn", "proj/p:env/test:flag/f"}}, false,
			why{access: 0, stmt: 0, code: ReasonKey, kind: "env", want: "production", got: "test"}},
		{"the second resource specifier matches", `[{"effect":"allow","resources":["proj/*:env/test:flag/*","proj/*:env/production:flag/*"],"actions":["*"]}]`,
			[]acc{{"updateOn", "proj/p:env/production:flag/f"}}, true,
			why{access: 0, stmt: 0, outcome: OutcomeAllowed, field: "resources", specIndex: 1}},

		// Reference integration policies.
		{"pagerduty: production flag toggle", pagerduty,
			[]acc{{"updateOn", "proj/p:env/production:flag/f"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
		{"pagerduty: segment targeting", pagerduty,
			[]acc{{"updateIncluded", "proj/p:env/production:segment/s"}}, true, why{access: 0, stmt: 1, outcome: OutcomeAllowed}},
		{"pagerduty: deleting a segment is not in the list", pagerduty,
			[]acc{{"deleteSegment", "proj/p:env/production:segment/s"}}, false,
			why{access: 0, stmt: 1, code: ReasonAction, got: "deleteSegment"}},

		// Empty policies, empty entries and bad accesses.
		{"empty policy sends everything", `[]`,
			[]acc{{"updateRole", "member/abc"}}, true, why{access: -1, stmt: -1, outcome: OutcomeNoPolicy}},
		{"null policy sends everything", `null`,
			[]acc{{"updateOn", "proj/p:env/e:flag/f"}}, true, why{access: -1, stmt: -1, outcome: OutcomeNoPolicy}},
		{"an entry without accesses is not sent", prodFlags, nil, false, why{access: -1}},
		{"a malformed access is skipped, another is allowed", prodFlags,
			[]acc{{"updateOn", "proj/p:env"}, {"updateOn", "proj/p:env/production:flag/f"}}, true,
			why{access: 1, stmt: 0, outcome: OutcomeAllowed}},
		{"only a malformed access: not sent", `[{"effect":"allow","resources":["*"],"actions":["*"]}]`,
			[]acc{{"updateOn", "proj/p:env"}}, false, why{access: 0, stmt: -1, outcome: OutcomeInvalid}},
		{"missing effect defaults to allow", `[{"resources":["proj/*:env/production:flag/*"],"actions":["*"]}]`,
			[]acc{{"updateOn", "proj/p:env/production:flag/f"}}, true, why{access: 0, stmt: 0, outcome: OutcomeAllowed}},
	}
	if len(tests) < 60 {
		t.Fatalf("only %d cases", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.policy))
			if err != nil {
				t.Fatalf("ParseJSON: %v", err)
			}
			accesses := make([]Access, len(tt.accesses))
			for i, a := range tt.accesses {
				accesses[i] = NewAccess(a.action, a.resource)
			}
			d := p.Decide(accesses)
			e := p.Explain(accesses)
			if d.Send != tt.send || e.Sent != tt.send {
				t.Fatalf("Decide.Send = %v, Explain.Sent = %v, want %v\n%s", d.Send, e.Sent, tt.send, e.Text())
			}
			w := tt.why
			if tt.send && w.access >= 0 && (d.Access != w.access || d.Statement != w.stmt) {
				t.Errorf("Decide = access %d stmt %d, want %d %d", d.Access, d.Statement, w.access, w.stmt)
			}
			if !tt.send && (d.Access != -1 || d.Statement != -1) {
				t.Errorf("Decide for a dropped entry = access %d stmt %d, want -1 -1", d.Access, d.Statement)
			}
			if w.access < 0 {
				if tt.send != d.NoPolicy || tt.send != e.NoPolicy {
					t.Errorf("NoPolicy = %v/%v, want %v", d.NoPolicy, e.NoPolicy, tt.send)
				}
				for _, a := range e.Accesses {
					if a.Outcome != w.outcome {
						t.Errorf("access %d outcome %q, want %q", a.Index, a.Outcome, w.outcome)
					}
				}
				return
			}
			at := e.Accesses[w.access]
			if w.outcome != "" && at.Outcome != w.outcome {
				t.Errorf("access %d outcome = %q, want %q\n%s", w.access, at.Outcome, w.outcome, e.Text())
			}
			switch w.outcome {
			case OutcomeAllowed:
				if !slices.Contains(at.AllowedBy, w.stmt) {
					t.Errorf("AllowedBy = %v, want it to contain %d", at.AllowedBy, w.stmt)
				}
			case OutcomeDenied:
				if !slices.Contains(at.DeniedBy, w.stmt) {
					t.Errorf("DeniedBy = %v, want it to contain %d", at.DeniedBy, w.stmt)
				}
			case OutcomeInvalid:
				if at.Error == "" || len(at.Statements) != 0 {
					t.Errorf("invalid access: error %q, %d statements", at.Error, len(at.Statements))
				}
				return
			}
			st := at.Statements[w.stmt]
			if w.field != "" && (st.Resource.Field != w.field || st.Resource.Index != w.specIndex) {
				t.Errorf("resource part = %s[%d], want %s[%d]", st.Resource.Field, st.Resource.Index, w.field, w.specIndex)
			}
			if w.code == "" {
				if !st.Matched || st.Reason != nil {
					t.Errorf("stmt %d: matched %v reason %+v, want a match", w.stmt, st.Matched, st.Reason)
				}
				return
			}
			if st.Matched || st.Reason == nil {
				t.Fatalf("stmt %d matched, want reason %s\n%s", w.stmt, w.code, e.Text())
			}
			r := st.Reason
			if r.Code != w.code || !field(r.Kind, w.kind) || !field(r.Want, w.want) || !field(r.Got, w.got) {
				t.Errorf("reason = %+v, want code %s kind %q want %q got %q", *r, w.code, w.kind, w.want, w.got)
			}
			if r.Text == "" {
				t.Error("reason has no text")
			}
			if !strings.Contains(e.Summary, r.Text) && len(tt.accesses) == 1 && len(p.stmts) == 1 {
				t.Errorf("summary %q does not give the reason %q", e.Summary, r.Text)
			}
		})
	}
}

// field compares an expected reason field: "" means not checked, "-" means
// expected empty.
func field(got, want string) bool {
	switch want {
	case "":
		return true
	case "-":
		return got == ""
	}
	return got == want
}

func TestNilPolicySendsEverything(t *testing.T) {
	var p *Policy
	d := p.Decide([]Access{NewAccess("updateOn", "proj/p")})
	if !d.Send || !d.NoPolicy {
		t.Errorf("nil policy: %+v", d)
	}
	if len(p.Warnings()) == 0 {
		t.Error("nil policy has no warning")
	}
}

// TestConcurrentUse runs Decide and Explain on one policy from several
// goroutines; run with -race.
func TestConcurrentUse(t *testing.T) {
	p := mustParse(t, allButProd)
	acc := accesses("updateOn", "proj/p:env/production:flag/f", "updateOn", "proj/p:env/test:flag/f")
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- true }()
			for i := 0; i < 200; i++ {
				if d := p.Decide(acc); !d.Send || d.Access != 1 {
					t.Errorf("Decide = %+v", d)
					return
				}
				if e := p.Explain(acc); !e.Sent {
					t.Errorf("Explain: %s", e.Summary)
					return
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}
