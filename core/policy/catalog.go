package policy

import "strings"

// documentedScope returns the chain of parent resource types LaunchDarkly
// documents for a resource type ("proj:env" for flag, "" for top-level
// types) and whether the type is documented at all. It feeds lint warnings
// only: matching never depends on it, so new LaunchDarkly resource types work
// before this list knows them.
//
// Sources: "Using resources" and "Using actions"
// (https://launchdarkly.com/docs/home/account/roles/role-resources,
// https://launchdarkly.com/docs/home/account/roles/role-actions) and the
// archived "Resources in custom roles" table.
func documentedScope(typ string) (parents string, ok bool) {
	switch typ {
	case "acct", "proj", "member", "role", "team", "webhook", "integration",
		"service-token", "relay-proxy-config", "code-reference-repository",
		"application", "domain-verification", "pending-request", "template":
		return "", true
	case "env", "metric", "metric-group", "context-kind", "layer",
		"release-pipeline", "release-policy", "view", "aiconfig",
		"ai-model-config", "agent-graphs", "alert", "error", "log", "session",
		"trace":
		return "proj", true
	case "flag", "segment", "experiment", "holdout", "destination", "user",
		"product-analytics-dashboard", "request":
		return "proj:env", true
	case "token":
		return "member", true
	}
	return "", false
}

// typeID returns a small number for each documented resource type and 0
// for others, so that matching compares numbers instead of strings.
func typeID(typ string) uint8 {
	switch typ {
	case "proj":
		return 1
	case "env":
		return 2
	case "flag":
		return 3
	case "segment":
		return 4
	case "metric":
		return 5
	case "member":
		return 6
	case "token":
		return 7
	case "role":
		return 8
	case "team":
		return 9
	case "webhook":
		return 10
	case "integration":
		return 11
	case "acct":
		return 12
	case "experiment":
		return 13
	case "holdout":
		return 14
	case "destination":
		return 15
	case "metric-group":
		return 16
	case "context-kind":
		return 17
	case "release-pipeline":
		return 18
	case "aiconfig":
		return 19
	case "view":
		return 20
	case "service-token":
		return 21
	case "relay-proxy-config":
		return 22
	case "code-reference-repository":
		return 23
	case "application":
		return 24
	case "user":
		return 25
	}
	return 0
}

// typoHint suggests the documented type for common misspellings.
func typoHint(typ string) string {
	switch typ {
	case "project", "projects":
		return "proj"
	case "environment", "environments", "envs":
		return "env"
	case "flags", "feature-flag", "featureflag":
		return "flag"
	case "segments":
		return "segment"
	case "account":
		return "acct"
	case "ai-config", "aiconfigs", "ai-configs":
		return "aiconfig"
	case "metrics", "goal", "goals":
		return "metric"
	case "members":
		return "member"
	case "roles", "custom-role":
		return "role"
	case "webhooks":
		return "webhook"
	case "integrations":
		return "integration"
	case "experiments":
		return "experiment"
	}
	return ""
}

// specifierWarnings returns lint messages for a compiled specifier that is
// legal but probably not what its author meant.
func specifierWarnings(s *Specifier) []string {
	if s.any {
		return nil
	}
	var out []string
	for i := range s.segs {
		seg := &s.segs[i]
		parents := make([]string, i)
		for k := 0; k < i; k++ {
			parents[k] = s.segs[k].typ
		}
		if seg.typ == "*" {
			out = append(out, "resource type \"*\" is literal: type wildcards are not supported; use a bare \"*\" to name every resource")
			continue
		}
		want, known := documentedScope(seg.typ)
		switch {
		case !known:
			msg := "resource type \"" + seg.typ + "\" is not in LaunchDarkly's documented list; it is matched literally"
			if h := typoHint(seg.typ); h != "" {
				msg += " (did you mean \"" + h + "\"?)"
			}
			out = append(out, msg)
		case want != strings.Join(parents, ":"):
			out = append(out, "resource type \""+seg.typ+"\" is documented "+placement(want)+
				", but this specifier puts it "+placement(strings.Join(parents, ":"))+
				"; it will not match LaunchDarkly's access resources")
		}
		if strings.Contains(seg.name.pat, "${") {
			out = append(out, "role attribute in \""+seg.typ+"/"+seg.name.pat+
				"\": integration policies have no role attributes, so it is matched as literal text and matches nothing")
		}
	}
	return out
}

func placement(parents string) string {
	if parents == "" {
		return "at the top level"
	}
	return "inside " + parents
}
