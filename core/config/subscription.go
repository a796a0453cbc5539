package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Keys of subscriptions that the editor (edit.go) writes as well.
const (
	keySubscriptions = "subscriptions"
	keyName          = "name"
	keyVars          = "vars"
	keyTemplates     = "templates"
)

// A subSetting is one setting of a subscription. The table in
// subscriptionSettings is the only place their keys are written.
type subSetting struct {
	key string
	// def is the default of a value setting, as the file would write it.
	def any
	// value reads a scalar setting; read, a structured one with the
	// positions of its parts. One of them is set.
	value reader
	read  func(n *yaml.Node, key string)
}

// subscriptionSettings lists a subscription's settings, reading into s.
func (l *loader) subscriptionSettings(s *Subscription) []subSetting {
	return []subSetting{
		{key: keyName, value: text(&s.Name)},
		{key: "integration", value: text(&s.Integration)},
		{key: "enabled", def: true, value: boolean(&s.Enabled)},
		{key: keyVars, read: func(n *yaml.Node, key string) { s.Vars = l.vars(n, key) }},
		{key: "policy", read: func(n *yaml.Node, key string) { s.Policy = l.policy(n, key) }},
		{key: "policy_file", read: func(n *yaml.Node, key string) { l.policyFile(n, key, s) }},
		{key: "concurrency", def: 4, value: integer(&s.Concurrency, 1, nil)},
		{key: "rate_limit", read: func(n *yaml.Node, key string) { s.Rate, s.Burst = l.rate(n, key) }},
		{key: "standard_webhooks_secret", value: secret(&s.StandardWebhooks, nil)},
		{key: "oauth", read: func(n *yaml.Node, key string) { s.OAuth = l.oauth(n, key) }},
		{key: keyTemplates, read: func(n *yaml.Node, key string) { s.Templates = l.templates(n, key) }},
		{key: "render", read: func(n *yaml.Node, key string) { l.render(n, key, &s.Render) }},
	}
}

// subscriptions parses the subscriptions list with positions.
func (l *loader) subscriptions(n *yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		if n.Tag != "!!null" {
			l.add(n, keySubscriptions, "expected a list of subscriptions, found %s", kindName(n))
		}
		return
	}
	seen := map[string]int{}
	for i, item := range n.Content {
		key := fmt.Sprintf("%s[%d]", keySubscriptions, i)
		if item.Kind != yaml.MappingNode {
			l.add(item, key, "expected a mapping with name, integration, vars, ..., found %s", kindName(item))
			continue
		}
		s := Subscription{Line: item.Line, Render: l.cfg.Delivery.Render}
		fields := l.subscriptionSettings(&s)
		known := make([]string, len(fields))
		byKey := make(map[string]subSetting, len(fields))
		for j, f := range fields {
			known[j] = f.key
			byKey[f.key] = f
			if f.def != nil {
				if err := f.value(l, f.def); err != nil {
					panic(fmt.Sprintf("config: default of subscription %s: %v", f.key, err)) // the table is code
				}
			}
		}
		for j := 0; j+1 < len(item.Content); j += 2 {
			k, v := item.Content[j], item.Content[j+1]
			fk := key + "." + k.Value
			f, ok := byKey[k.Value]
			switch {
			case !ok:
				l.add(k, fk, "unknown subscription setting (known: %s)", strings.Join(known, ", "))
			case f.value != nil:
				l.readNode(v, fk, f.value)
			default:
				f.read(v, fk)
			}
		}
		if s.Name == "" {
			l.add(item, key+".name", "every subscription needs a name")
		} else if !validName(s.Name) {
			l.add(item, key+".name", "%q: use letters, digits, '-', '_' and '.' only", s.Name)
		} else if prev, dup := seen[s.Name]; dup {
			l.add(item, key+".name", "%q is already used by subscriptions[%d]", s.Name, prev)
		} else {
			seen[s.Name] = i
		}
		if s.Integration == "" {
			l.add(item, key+".integration", "every subscription needs an integration (a built-in name, a directory under integrations_dirs, or a path)")
		}
		if s.Policy != nil && s.PolicyFile != "" && lookupNode(item, "policy") != nil {
			l.add(item, key, "set policy or policy_file, not both")
		}
		l.cfg.Subscriptions = append(l.cfg.Subscriptions, s)
	}
}

// readNode reads the value at n with r, reporting problems at n.
func (l *loader) readNode(n *yaml.Node, key string, r reader) {
	var x any
	if err := n.Decode(&x); err != nil {
		l.add(n, key, "%v", err)
		return
	}
	l.report(n, key, r(l, x))
}

func validName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return len(s) <= 64
}

func (l *loader) policyFile(n *yaml.Node, key string, s *Subscription) {
	l.readNode(n, key, text(&s.PolicyFile))
	if s.PolicyFile == "" {
		return
	}
	path := relTo(filepath.Dir(l.file), s.PolicyFile)
	data, err := os.ReadFile(path)
	if err != nil {
		l.add(n, key, "reading policy file: %v", err)
		return
	}
	s.PolicyFile, s.Policy = path, data
}

// rate parses "10/s", "600/m", "5" (per second) or {rate: 10, burst: 20}.
func (l *loader) rate(n *yaml.Node, key string) (float64, int) {
	if n.Kind == yaml.MappingNode {
		var r struct {
			Rate  float64 `yaml:"rate"`
			Burst int     `yaml:"burst"`
		}
		if err := n.Decode(&r); err != nil || r.Rate < 0 || r.Burst < 0 {
			l.add(n, key, "expected {rate: N, burst: M} with N, M ≥ 0")
			return 0, 0
		}
		if r.Burst == 0 {
			r.Burst = max(1, int(r.Rate))
		}
		return r.Rate, r.Burst
	}
	s := strings.TrimSpace(n.Value)
	per := 1.0
	if num, unit, ok := strings.Cut(s, "/"); ok {
		switch unit {
		case "s", "sec", "second":
		case "m", "min", "minute":
			per = 60
		case "h", "hour":
			per = 3600
		default:
			l.add(n, key, "expected a rate such as 10/s, 600/m or 100/h, got %q", s)
			return 0, 0
		}
		s = num
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 {
		l.add(n, key, "expected a rate such as 10/s, 600/m or 100/h, got %q", n.Value)
		return 0, 0
	}
	r := f / per
	return r, max(1, int(r))
}

func (l *loader) vars(n *yaml.Node, key string) map[string]Var {
	if n.Kind != yaml.MappingNode {
		if n.Tag != "!!null" {
			l.add(n, key, "expected a mapping of form-variable keys to values, found %s", kindName(n))
		}
		return nil
	}
	out := make(map[string]Var, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		fk := key + "." + k.Value
		if v.Kind != yaml.ScalarNode {
			l.add(v, fk, "expected a string or boolean value, found %s", kindName(v))
			continue
		}
		switch v.Tag {
		case "!!bool":
			var b bool
			_ = v.Decode(&b)
			out[k.Value] = Var{Value: b}
		case "!!null":
			out[k.Value] = Var{Value: ""}
		default:
			if strings.HasPrefix(v.Value, "env:") || strings.HasPrefix(v.Value, "file:") || (strings.HasPrefix(v.Value, "${") && strings.HasSuffix(v.Value, "}")) {
				sec, err := l.resolveSecret(v.Value)
				if err != nil {
					l.add(v, fk, "%v", err)
					continue
				}
				out[k.Value] = Var{Value: sec.Value, Ref: sec.Ref}
				continue
			}
			out[k.Value] = Var{Value: v.Value}
		}
	}
	return out
}

// policy converts an inline YAML policy (a list of statements) to JSON so
// the policy package parses one format.
func (l *loader) policy(n *yaml.Node, key string) []byte {
	if n.Kind != yaml.SequenceNode {
		l.add(n, key, "expected a list of policy statements ({effect, resources, actions}), found %s", kindName(n))
		return nil
	}
	var x any
	if err := n.Decode(&x); err != nil {
		l.add(n, key, "%v", err)
		return nil
	}
	data, err := json.Marshal(x)
	if err != nil {
		l.add(n, key, "policy is not representable as JSON: %v", err)
		return nil
	}
	return data
}

func (l *loader) oauth(n *yaml.Node, key string) *OAuth {
	var raw struct {
		BaseURI     string `yaml:"base_uri"`
		AccessToken string `yaml:"access_token"`
	}
	if n.Kind != yaml.MappingNode || n.Decode(&raw) != nil {
		l.add(n, key, "expected {base_uri: URL, access_token: TOKEN}")
		return nil
	}
	tok, err := l.resolveSecret(raw.AccessToken)
	if err != nil {
		l.add(n, key+".access_token", "%v", err)
	}
	return &OAuth{BaseURI: raw.BaseURI, AccessToken: tok}
}

// render applies a subscription's render settings ({max_output: 2MiB,
// max_steps: 5000000}) over the delivery.render defaults in b.
func (l *loader) render(n *yaml.Node, key string, b *RenderBudget) {
	settings := renderSettings(b)
	known := make([]string, len(settings))
	for i, s := range settings {
		known[i] = s.key
	}
	if n.Kind != yaml.MappingNode {
		l.add(n, key, "expected a mapping with %s, found %s", strings.Join(known, " and/or "), kindName(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		fk := key + "." + k.Value
		j := slices.Index(known, k.Value)
		if j < 0 {
			l.add(k, fk, "unknown render setting (known: %s)", strings.Join(known, ", "))
			continue
		}
		l.readNode(v, fk, settings[j].read)
	}
	if msg := renderOutputProblem(b.MaxOutput, l.cfg.Delivery.MaxRequestBody); msg != "" {
		// Said where the subscription sets it; an inherited one is
		// reported at delivery.render.max_output.
		if at := lookupNode(n, keyMaxOutput); at != nil {
			l.add(at, key+"."+keyMaxOutput, "%s", msg)
		}
	}
}

// templateKeys are the templates a subscription may override.
var templateKeys = []string{"flag", "project", "environment", "member", "default", "validation"}

func (l *loader) templates(n *yaml.Node, key string) map[string]string {
	if n.Kind != yaml.MappingNode {
		l.add(n, key, "expected a mapping of template keys (%s) to files", strings.Join(templateKeys, ", "))
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		fk := key + "." + k.Value
		if !slices.Contains(templateKeys, k.Value) {
			l.add(k, fk, "unknown template key (expected %s)", orList(templateKeys))
			continue
		}
		var file string
		l.readNode(v, fk, text(&file))
		out[k.Value] = relTo(filepath.Dir(l.file), file)
	}
	return out
}
