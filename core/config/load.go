package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cast"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// Problem is one configuration error with where it is.
type Problem struct {
	File      string
	Line, Col int
	Key       string // dotted key, e.g. "subscriptions[1].vars.apiKey"
	Msg       string
}

func (p Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", p.Line, p.Col)
		}
		b.WriteString(": ")
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every error found in a configuration.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Env looks up environment variables; tests pass their own.
type Env func(name string) (string, bool)

// Load builds the configuration from file (YAML; "" for none) and v, which
// holds flags and AUDITRELAY_* variables bound by the caller and takes
// precedence over the file. It reports every problem at once as Problems.
func Load(v *viper.Viper, file string, env Env) (Config, error) {
	if env == nil {
		env = os.LookupEnv
	}
	l := loader{v: v, env: env, cfg: Defaults(), file: file}
	l.cfg.File = file
	var root *yaml.Node
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return Config{}, fmt.Errorf("reading config: %w", err)
		}
		root, err = parseYAML(data)
		if err != nil {
			return Config{}, Problems{l.yamlProblem(err)}
		}
		l.checkKeys(root, "", schema)
		// viper layers the file under flags and environment.
		v.SetConfigType("yaml")
		if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
			return Config{}, Problems{l.yamlProblem(err)}
		}
	}
	l.root = root
	l.scalars()
	if root != nil {
		if subs := lookupNode(root, "subscriptions"); subs != nil {
			l.subscriptions(subs)
		}
	}
	if len(l.problems) > 0 {
		sort.SliceStable(l.problems, func(i, j int) bool { return l.problems[i].Line < l.problems[j].Line })
		return l.cfg, l.problems
	}
	return l.cfg, nil
}

type loader struct {
	root     *yaml.Node // the file's mapping, nil without a file
	v        *viper.Viper
	env      Env
	cfg      Config
	file     string
	problems Problems
}

func (l *loader) add(n *yaml.Node, key, format string, args ...any) {
	p := Problem{File: l.file, Key: key, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Col = n.Line, n.Column
	}
	l.problems = append(l.problems, p)
}

func (l *loader) yamlProblem(err error) Problem {
	p := Problem{File: l.file, Msg: err.Error()}
	// yaml.v3 reports "yaml: line N: message".
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ":"); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				p.Line, p.Col, p.Msg = n, 1, strings.TrimSpace(rest[i+1:])
			}
		}
	}
	return p
}

func parseYAML(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &yaml.Node{Kind: yaml.MappingNode}, nil
		}
		return nil, err
	}
	if len(doc.Content) == 0 {
		return &yaml.Node{Kind: yaml.MappingNode}, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("yaml: line %d: the config file must be a mapping of settings, found %s", root.Line, kindName(root))
	}
	return root, nil
}

// schema lists the known keys; nil values are leaves, maps are sections.
// Anything else in the file is a typo worth failing on.
var schema = map[string]any{
	"data_dir": nil, "store": nil, "instance": nil, "base_url": nil, "integrations_dirs": nil,
	"sqlite": map[string]any{"synchronous": nil, "wal_max": nil},
	"log":    map[string]any{"level": nil, "format": nil, "repeat_window": nil},
	"http":   map[string]any{"listen": nil},
	"admin":  map[string]any{"listen": nil, "token": nil},
	"sources": map[string]any{
		"webhook": map[string]any{"enabled": nil, "path": nil, "secret": nil, "max_body": nil, "max_entries": nil, "max_in_flight": nil, "store_timeout": nil},
		"poller":  map[string]any{"enabled": nil, "base_url": nil, "token": nil, "interval": nil, "limit": nil, "spec": nil},
	},
	"delivery": map[string]any{
		"timeout": nil, "connect_timeout": nil, "max_response_body": nil, "lease": nil,
		"allowed_targets": nil, "denied_targets": nil,
		"max_request_body": nil, "poison_after": nil,
		"retry":  map[string]any{"schedule": nil, "jitter": nil, "max_retry_after": nil},
		"render": map[string]any{"max_output": nil, "max_steps": nil},
	},
	"retention":     map[string]any{"max_age": nil, "failed_max_age": nil, "max_entries": nil, "interval": nil},
	"ssh":           map[string]any{"listen": nil, "authorized_keys": nil, "host_key": nil, "max_sessions": nil, "idle_timeout": nil},
	"subscriptions": nil, // checked by subscriptions()
}

func (l *loader) checkKeys(n *yaml.Node, prefix string, known map[string]any) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		path := joinKey(prefix, k.Value)
		sub, ok := known[k.Value]
		if !ok {
			l.add(k, path, "unknown setting (known here: %s)", strings.Join(sortedKeys(known), ", "))
			continue
		}
		if m, isSection := sub.(map[string]any); isSection {
			if val.Kind != yaml.MappingNode {
				if val.Tag != "!!null" {
					l.add(val, path, "expected a mapping of settings, found %s", kindName(val))
				}
				continue
			}
			l.checkKeys(val, path, m)
		}
	}
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func joinKey(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// scalars reads every non-subscription setting through viper so flags and
// AUDITRELAY_* variables override the file.
func (l *loader) scalars() {
	c := &l.cfg
	str := func(key string, dst *string) {
		if l.v.IsSet(key) {
			*dst = strings.TrimSpace(cast.ToString(l.v.Get(key)))
		}
	}
	boolean := func(key string, dst *bool) {
		if l.v.IsSet(key) {
			b, err := cast.ToBoolE(l.v.Get(key))
			if err != nil {
				l.add(nil, key, "expected true or false, got %q", cast.ToString(l.v.Get(key)))
				return
			}
			*dst = b
		}
	}
	duration := func(key string, dst *time.Duration) {
		if l.v.IsSet(key) {
			d, err := parseDuration(l.v.Get(key))
			if err != nil {
				l.add(nil, key, "%v", err)
				return
			}
			*dst = d
		}
	}
	integer := func(key string, dst *int, min int) {
		if l.v.IsSet(key) {
			n, err := cast.ToIntE(l.v.Get(key))
			if err != nil || n < min {
				l.add(nil, key, "expected an integer ≥ %d, got %q", min, cast.ToString(l.v.Get(key)))
				return
			}
			*dst = n
		}
	}
	size := func(key string, dst *int64) {
		if l.v.IsSet(key) {
			n, err := ParseSize(cast.ToString(l.v.Get(key)))
			if err != nil {
				l.add(nil, key, "%v", err)
				return
			}
			*dst = n
		}
	}
	secret := func(key string, dst *Secret) {
		if l.v.IsSet(key) {
			s, err := l.resolveSecret(cast.ToString(l.v.Get(key)))
			if err != nil {
				l.add(nil, key, "%v", err)
				return
			}
			*dst = s
		}
	}

	str("data_dir", &c.DataDir)
	str("store", &c.Store)
	str("sqlite.synchronous", &c.SQLite.Synchronous)
	size("sqlite.wal_max", &c.SQLite.WALMax)
	str("instance", &c.Instance)
	str("base_url", &c.BaseURL)
	if l.v.IsSet("integrations_dirs") {
		c.IntegrationsDirs = cast.ToStringSlice(l.v.Get("integrations_dirs"))
	}
	str("log.level", &c.Log.Level)
	str("log.format", &c.Log.Format)
	duration("log.repeat_window", &c.Log.RepeatWindow)
	str("http.listen", &c.HTTP.Listen)
	str("admin.listen", &c.Admin.Listen)
	secret("admin.token", &c.Admin.Token)
	boolean("sources.webhook.enabled", &c.Webhook.Enabled)
	str("sources.webhook.path", &c.Webhook.Path)
	secret("sources.webhook.secret", &c.Webhook.Secret)
	size("sources.webhook.max_body", &c.Webhook.MaxBody)
	integer("sources.webhook.max_entries", &c.Webhook.MaxEntries, 1)
	integer("sources.webhook.max_in_flight", &c.Webhook.MaxInFlight, 1)
	duration("sources.webhook.store_timeout", &c.Webhook.StoreTimeout)
	boolean("sources.poller.enabled", &c.Poller.Enabled)
	str("sources.poller.base_url", &c.Poller.BaseURL)
	secret("sources.poller.token", &c.Poller.Token)
	duration("sources.poller.interval", &c.Poller.Interval)
	integer("sources.poller.limit", &c.Poller.Limit, 1)
	str("sources.poller.spec", &c.Poller.Spec)
	duration("delivery.timeout", &c.Delivery.Timeout)
	duration("delivery.connect_timeout", &c.Delivery.ConnectTimeout)
	size("delivery.max_response_body", &c.Delivery.MaxResponseBody)
	size("delivery.max_request_body", &c.Delivery.MaxRequestBody)
	duration("delivery.lease", &c.Delivery.Lease)
	integer("delivery.poison_after", &c.Delivery.PoisonAfter, 1)
	size("delivery.render.max_output", &c.Delivery.Render.MaxOutput)
	integer("delivery.render.max_steps", &c.Delivery.Render.MaxSteps, minRenderSteps)
	if l.v.IsSet("delivery.retry.schedule") {
		var sched []time.Duration
		for i, x := range cast.ToSlice(l.v.Get("delivery.retry.schedule")) {
			d, err := parseDuration(x)
			if err != nil || d <= 0 {
				l.add(nil, fmt.Sprintf("delivery.retry.schedule[%d]", i), "expected a positive duration such as 30s or 2h, got %v", x)
				continue
			}
			sched = append(sched, d)
		}
		c.Delivery.Schedule = sched
	}
	if l.v.IsSet("delivery.retry.jitter") {
		j, err := cast.ToFloat64E(l.v.Get("delivery.retry.jitter"))
		if err != nil || j < 0 || j >= 1 {
			l.add(nil, "delivery.retry.jitter", "expected a fraction in [0, 1), got %v", l.v.Get("delivery.retry.jitter"))
		} else {
			c.Delivery.Jitter = j
		}
	}
	duration("delivery.retry.max_retry_after", &c.Delivery.MaxRetryAfter)
	var allowedAt, deniedAt []int
	c.Delivery.AllowedTargets, allowedAt = l.targets("delivery.allowed_targets")
	c.Delivery.DeniedTargets, deniedAt = l.targets("delivery.denied_targets")
	denied := map[netip.Prefix]int{}
	for i, p := range c.Delivery.DeniedTargets {
		denied[p] = deniedAt[i]
	}
	for i, p := range c.Delivery.AllowedTargets {
		if j, ok := denied[p]; ok {
			l.add(nil, fmt.Sprintf("delivery.allowed_targets[%d]", allowedAt[i]), "%s is also delivery.denied_targets[%d]; list a range in one of them", p, j)
		}
	}
	duration("retention.max_age", &c.Retention.MaxAge)
	duration("retention.failed_max_age", &c.Retention.FailedMaxAge)
	integer("retention.max_entries", &c.Retention.MaxEntries, 0)
	duration("retention.interval", &c.Retention.Interval)
	str("ssh.listen", &c.SSH.Listen)
	str("ssh.authorized_keys", &c.SSH.AuthorizedKeys)
	str("ssh.host_key", &c.SSH.HostKey)
	integer("ssh.max_sessions", &c.SSH.MaxSessions, 1)
	duration("ssh.idle_timeout", &c.SSH.IdleTimeout)

	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		l.add(nil, "log.level", "expected debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.SQLite.Synchronous {
	case "normal", "full":
	default:
		l.add(nil, "sqlite.synchronous", "expected normal or full, got %q", c.SQLite.Synchronous)
	}
	if c.SQLite.WALMax < 4<<20 {
		l.add(nil, "sqlite.wal_max", "expected at least 4MiB, got %d bytes", c.SQLite.WALMax)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		l.add(nil, "log.format", "expected text or json, got %q", c.Log.Format)
	}
	if c.Store != "" && !strings.HasPrefix(c.Store, "postgres://") && !strings.HasPrefix(c.Store, "postgresql://") && !strings.HasPrefix(c.Store, "sqlite:") {
		l.add(nil, "store", "expected empty (embedded SQLite in data_dir), sqlite:PATH or a postgres:// URL, got %q", c.Store)
	}
	if tok := c.Admin.Token.Value; tok != "" {
		// The token is all that guards retries and ingests over the admin
		// API; it travels as "Authorization: Bearer <token>".
		switch {
		case len(tok) < MinAdminToken:
			l.add(nil, "admin.token", "is %d characters, expected at least %d: use a long random value (openssl rand -hex 32), or leave it empty to have one generated into data_dir/admin.token", len(tok), MinAdminToken)
		case strings.ContainsFunc(tok, func(r rune) bool { return r <= ' ' || r == 0x7f }):
			l.add(nil, "admin.token", "contains spaces or control characters, which an Authorization header cannot carry")
		}
	}
	if c.Log.RepeatWindow < 0 {
		l.add(nil, "log.repeat_window", "must not be negative (0 logs every repeated error)")
	}
	if c.Webhook.StoreTimeout <= 0 {
		l.add(nil, "sources.webhook.store_timeout", "must be positive, got %s", c.Webhook.StoreTimeout)
	}
	if c.Poller.Enabled && c.Poller.Token.Value == "" {
		l.add(nil, "sources.poller.token", "the poller is enabled but has no access token (set it, or env:NAME)")
	}
	if c.Poller.Limit > 20 {
		l.add(nil, "sources.poller.limit", "LaunchDarkly pages at most 20 entries, got %d", c.Poller.Limit)
	}
	if !strings.HasPrefix(c.Webhook.Path, "/") {
		l.add(nil, "sources.webhook.path", "expected a path starting with /, got %q", c.Webhook.Path)
	}
	if c.Delivery.Timeout <= 0 {
		l.add(nil, "delivery.timeout", "must be positive")
	}
	if c.Delivery.MaxRequestBody < 1 {
		l.add(nil, "delivery.max_request_body", "expected a size of at least 1 byte, got %d", c.Delivery.MaxRequestBody)
	}
	if msg := renderOutputProblem(c.Delivery.Render.MaxOutput, c.Delivery.MaxRequestBody); msg != "" {
		l.add(nil, "delivery.render.max_output", "%s", msg)
	}
	if c.Delivery.Lease <= c.Delivery.Timeout {
		l.add(nil, "delivery.lease", "must be longer than delivery.timeout (%s), got %s: a lease shorter than a request would hand the delivery to another worker mid-flight", c.Delivery.Timeout, c.Delivery.Lease)
	}
	if c.Instance == "" {
		host, _ := os.Hostname()
		c.Instance = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if l.file != "" {
		// Relative paths in a config file are relative to the file.
		base := filepath.Dir(l.file)
		for i, d := range c.IntegrationsDirs {
			c.IntegrationsDirs[i] = relTo(base, d)
		}
		c.SSH.AuthorizedKeys = relTo(base, c.SSH.AuthorizedKeys)
		c.SSH.HostKey = relTo(base, c.SSH.HostKey)
	}
}

// targets reads a list of CIDR ranges (or single addresses) from a YAML
// list, or from a comma- or space-separated string (an environment
// variable). IPv4-mapped ranges become the IPv4 range they cover. at
// holds each range's index in the list as written.
func (l *loader) targets(key string) (out []netip.Prefix, at []int) {
	if !l.v.IsSet(key) {
		return nil, nil
	}
	var items []string
	switch x := l.v.Get(key).(type) {
	case string:
		items = strings.FieldsFunc(x, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	case nil:
	default:
		for _, it := range cast.ToSlice(x) {
			items = append(items, strings.TrimSpace(cast.ToString(it)))
		}
	}
	// Point at the file's line when the list came from it (not from the
	// environment or a flag).
	var nodes []*yaml.Node
	if n := lookupPath(l.root, key); n != nil && n.Kind == yaml.SequenceNode && len(n.Content) == len(items) {
		nodes = n.Content
	}
	for i, s := range items {
		ik := fmt.Sprintf("%s[%d]", key, i)
		var pos *yaml.Node
		if nodes != nil && strings.TrimSpace(nodes[i].Value) == s {
			pos = nodes[i]
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil || a.Zone() != "" {
				l.add(pos, ik, "expected a CIDR range such as 10.0.0.0/8 or fd00::/8, or an IP address, got %q", s)
				continue
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		if m := p.Masked(); m != p {
			l.add(pos, ik, "%s has bits set past the /%d prefix: did you mean %s (the range) or %s (the address)?", s, p.Bits(), m, netip.PrefixFrom(p.Addr(), p.Addr().BitLen()))
			continue
		}
		out = append(out, p)
		at = append(at, i)
	}
	return out, at
}

// lookupPath finds a dotted key ("delivery.denied_targets") in a mapping.
func lookupPath(m *yaml.Node, key string) *yaml.Node {
	for _, k := range strings.Split(key, ".") {
		m = lookupNode(m, k)
	}
	return m
}

// minRenderSteps is the smallest render step budget accepted: below it
// ordinary templates would fail.
const minRenderSteps = 1000

// renderOutputProblem says what is wrong with a render output budget, or
// "": a body the relay renders must fit what it may send.
func renderOutputProblem(maxOutput, maxRequestBody int64) string {
	switch {
	case maxOutput < 1:
		return fmt.Sprintf("expected a size of at least 1 byte, got %d", maxOutput)
	case maxOutput > maxRequestBody:
		return fmt.Sprintf("%s is more than delivery.max_request_body (%s): a rendered body must fit what the relay may send; raise delivery.max_request_body too", sizeString(maxOutput), sizeString(maxRequestBody))
	}
	return ""
}

// sizeString prints a byte count the way sizes are written in the file.
func sizeString(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func relTo(base, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// resolveSecret turns "env:NAME", "${NAME}" and "file:PATH" into the value
// and remembers where it came from.
func (l *loader) resolveSecret(raw string) (Secret, error) {
	raw = strings.TrimSpace(raw)
	switch {
	case strings.HasPrefix(raw, "env:"):
		name := strings.TrimPrefix(raw, "env:")
		v, ok := l.env(name)
		if !ok {
			return Secret{}, fmt.Errorf("environment variable %s is not set", name)
		}
		return Secret{Value: v, Ref: raw}, nil
	case strings.HasPrefix(raw, "${") && strings.HasSuffix(raw, "}"):
		name := raw[2 : len(raw)-1]
		v, ok := l.env(name)
		if !ok {
			return Secret{}, fmt.Errorf("environment variable %s is not set", name)
		}
		return Secret{Value: v, Ref: "env:" + name}, nil
	case strings.HasPrefix(raw, "file:"):
		path := relTo(filepath.Dir(l.file), strings.TrimPrefix(raw, "file:"))
		data, err := os.ReadFile(path)
		if err != nil {
			return Secret{}, fmt.Errorf("reading secret file: %w", err)
		}
		return Secret{Value: strings.TrimRight(string(data), "\r\n"), Ref: raw}, nil
	}
	return Secret{Value: raw}, nil
}

func parseDuration(x any) (time.Duration, error) {
	switch t := x.(type) {
	case time.Duration:
		return t, nil
	case int, int64, float64:
		return 0, fmt.Errorf("expected a duration with a unit such as 30s or 5m, got %v", t)
	}
	s := strings.TrimSpace(cast.ToString(x))
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("expected a duration such as 30s, 5m or 24h, got %q", s)
	}
	return d, nil
}

// ParseSize parses byte sizes such as "1MiB", "64KiB", "10MB" or "4096".
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"B", 1}}
	mult := int64(1)
	num := s
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			mult, num = u.mult, strings.TrimSpace(strings.TrimSuffix(s, u.suffix))
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("expected a size such as 1MiB, 64KiB or 4096, got %q", s)
	}
	return n * mult, nil
}

func lookupNode(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "something else"
}

// subscriptions parses the subscriptions list with positions.
func (l *loader) subscriptions(n *yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		if n.Tag != "!!null" {
			l.add(n, "subscriptions", "expected a list of subscriptions, found %s", kindName(n))
		}
		return
	}
	seen := map[string]int{}
	for i, item := range n.Content {
		key := fmt.Sprintf("subscriptions[%d]", i)
		if item.Kind != yaml.MappingNode {
			l.add(item, key, "expected a mapping with name, integration, vars, ..., found %s", kindName(item))
			continue
		}
		s := Subscription{Enabled: true, Concurrency: 4, Line: item.Line, Render: l.cfg.Delivery.Render}
		for j := 0; j+1 < len(item.Content); j += 2 {
			k, v := item.Content[j], item.Content[j+1]
			fk := key + "." + k.Value
			switch k.Value {
			case "name":
				s.Name = l.scalarString(v, fk)
			case "integration":
				s.Integration = l.scalarString(v, fk)
			case "enabled":
				s.Enabled = l.scalarBool(v, fk)
			case "vars":
				s.Vars = l.vars(v, fk)
			case "policy":
				s.Policy = l.policy(v, fk)
			case "policy_file":
				s.PolicyFile = l.scalarString(v, fk)
				if s.PolicyFile != "" {
					path := relTo(filepath.Dir(l.file), s.PolicyFile)
					data, err := os.ReadFile(path)
					if err != nil {
						l.add(v, fk, "reading policy file: %v", err)
					} else {
						s.PolicyFile, s.Policy = path, data
					}
				}
			case "concurrency":
				s.Concurrency = l.scalarInt(v, fk, 1)
			case "rate_limit":
				s.Rate, s.Burst = l.rate(v, fk)
			case "standard_webhooks_secret":
				if sec, err := l.resolveSecret(l.scalarString(v, fk)); err != nil {
					l.add(v, fk, "%v", err)
				} else {
					s.StandardWebhooks = sec
				}
			case "oauth":
				s.OAuth = l.oauth(v, fk)
			case "templates":
				s.Templates = l.templates(v, fk)
			case "render":
				l.render(v, fk, &s.Render)
			default:
				l.add(k, fk, "unknown subscription setting (known: name, integration, enabled, vars, policy, policy_file, concurrency, rate_limit, standard_webhooks_secret, oauth, templates, render)")
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

func validName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return len(s) <= 64
}

func (l *loader) scalarString(n *yaml.Node, key string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		l.add(n, key, "expected a string, found %s", kindName(n))
		return ""
	}
	return n.Value
}

func (l *loader) scalarBool(n *yaml.Node, key string) bool {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		l.add(n, key, "expected true or false, found %s", kindName(n))
	}
	return b
}

func (l *loader) scalarInt(n *yaml.Node, key string, min int) int {
	var i int
	if n.Kind != yaml.ScalarNode || n.Decode(&i) != nil || i < min {
		l.add(n, key, "expected an integer ≥ %d, found %s", min, kindName(n))
		return min
	}
	return i
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
	if n.Kind != yaml.MappingNode {
		l.add(n, key, "expected a mapping with max_output and/or max_steps, found %s", kindName(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		fk := key + "." + k.Value
		switch k.Value {
		case "max_output":
			size, err := ParseSize(l.scalarString(v, fk))
			if err != nil {
				l.add(v, fk, "%v", err)
				continue
			}
			if msg := renderOutputProblem(size, l.cfg.Delivery.MaxRequestBody); msg != "" {
				l.add(v, fk, "%s", msg)
				continue
			}
			b.MaxOutput = size
		case "max_steps":
			b.MaxSteps = l.scalarInt(v, fk, minRenderSteps)
		default:
			l.add(k, fk, "unknown render setting (known: max_output, max_steps)")
		}
	}
}

func (l *loader) templates(n *yaml.Node, key string) map[string]string {
	if n.Kind != yaml.MappingNode {
		l.add(n, key, "expected a mapping of template keys (flag, project, environment, member, default, validation) to files")
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "flag", "project", "environment", "member", "default", "validation":
		default:
			l.add(k, key+"."+k.Value, "unknown template key (expected flag, project, environment, member, default or validation)")
			continue
		}
		out[k.Value] = relTo(filepath.Dir(l.file), l.scalarString(v, key+"."+k.Value))
	}
	return out
}
