package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/auditrelay/auditrelay/core/duration"
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

// Bind makes v read every setting from the flag in fs that sets it (see
// the flags in settings) and from the environment: AUDITRELAY_ and the key
// in upper case with dots as underscores (AUDITRELAY_SOURCES_WEBHOOK_SECRET).
// The config file's own path is --config or AUDITRELAY_CONFIG. Load then
// layers the file under them: flag, environment, file, default.
func Bind(v *viper.Viper, fs *pflag.FlagSet) error {
	v.SetEnvPrefix("AUDITRELAY")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_", ".", "_"))
	v.AutomaticEnv()
	bind := func(key, flag string) error {
		if f := fs.Lookup(flag); f != nil {
			if err := v.BindPFlag(key, f); err != nil {
				return fmt.Errorf("binding --%s: %w", flag, err)
			}
		}
		return nil
	}
	if err := bind("config", "config"); err != nil {
		return err
	}
	for _, s := range settings(&Config{}) {
		if s.flag != "" {
			if err := bind(s.key, s.flag); err != nil {
				return err
			}
		}
	}
	return nil
}

// Load builds the configuration from file (YAML; "" for none) and v, which
// holds flags and AUDITRELAY_* variables (see Bind) and takes precedence
// over the file. It reports every problem at once as Problems.
func Load(v *viper.Viper, file string, env Env) (Config, error) {
	return loadConfig(v, file, env, false)
}

// LoadWithoutSecrets is Load for commands that send nothing (listing
// deliveries or integrations, replaying into the queue): a secret whose
// environment variable is unset or whose file cannot be read is left
// empty, its Ref kept, instead of being a problem. Everything else is
// checked as by Load.
func LoadWithoutSecrets(v *viper.Viper, file string, env Env) (Config, error) {
	return loadConfig(v, file, env, true)
}

func loadConfig(v *viper.Viper, file string, env Env, lenient bool) (Config, error) {
	if env == nil {
		env = os.LookupEnv
	}
	l := loader{v: v, env: env, cfg: Defaults(), file: file, lenient: lenient}
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
		l.checkKeys(root, "", schema())
		// viper layers the file under flags and environment. Which paths
		// come from a flag or the environment is noted first, with no file
		// read: those are relative to the working directory, not the file.
		v.SetConfigType("yaml")
		if err := v.ReadConfig(bytes.NewReader(nil)); err != nil {
			return Config{}, Problems{l.yamlProblem(err)}
		}
		l.outside = map[string]bool{}
		for _, k := range pathKeys {
			l.outside[k] = v.IsSet(k)
		}
		if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
			return Config{}, Problems{l.yamlProblem(err)}
		}
	}
	l.root = root
	for _, s := range settings(&l.cfg) {
		if v.IsSet(s.key) {
			x := v.Get(s.key)
			if err := s.read(&l, x); err != nil {
				l.report(l.at(s.key, x), s.key, err)
			}
		}
	}
	l.check()
	if root != nil {
		if subs := lookupNode(root, keySubscriptions); subs != nil {
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
	// lenient leaves secrets that cannot be resolved empty (see
	// LoadWithoutSecrets).
	lenient bool
	// outside marks the path settings (pathKeys) set by a flag or the
	// environment rather than the file.
	outside map[string]bool
}

// pathKeys are the settings holding paths: relative to the config file
// when written there, to the working directory when given by a flag or
// the environment.
var pathKeys = []string{"integrations_dirs", "ssh.authorized_keys", "ssh.host_key"}

func (l *loader) add(n *yaml.Node, key, format string, args ...any) {
	p := Problem{File: l.file, Key: key, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Col = n.Line, n.Column
	}
	l.problems = append(l.problems, p)
}

// report adds err, the problems a reader found with the value of key,
// pointing at at (and at its elements) when that is not nil.
func (l *loader) report(at *yaml.Node, key string, err error) {
	if err == nil {
		return
	}
	for _, e := range flatten(err) {
		var item itemError
		if !errors.As(e, &item) {
			l.add(at, key, "%v", e)
			continue
		}
		var pos *yaml.Node
		if at != nil && at.Kind == yaml.SequenceNode && item.i < len(at.Content) {
			pos = at.Content[item.i]
		}
		l.add(pos, fmt.Sprintf("%s[%d]", key, item.i), "%v", item.err)
	}
}

// flatten undoes errors.Join.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// at is the file's node for key when x, the value in effect, came from
// the file rather than from a flag or the environment.
func (l *loader) at(key string, x any) *yaml.Node {
	n := lookupPath(l.root, key)
	if n == nil {
		return nil
	}
	var fx any
	if n.Decode(&fx) != nil || !reflect.DeepEqual(fx, x) {
		return nil
	}
	return n
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

func joinKey(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// check applies the rules that involve several settings, and fills in
// what is derived from others.
func (l *loader) check() {
	c := &l.cfg
	if c.Poller.Enabled && c.Poller.Token.Value == "" && !l.unresolved(c.Poller.Token) {
		l.addAt("sources.poller.token", "the poller is enabled but has no access token (set it, or env:NAME)")
	}
	if msg := renderOutputProblem(c.Delivery.Render.MaxOutput, c.Delivery.MaxRequestBody); msg != "" {
		l.addAt("delivery.render.max_output", "%s", msg)
	}
	if c.Delivery.Lease <= c.Delivery.Timeout {
		l.addAt("delivery.lease", "must be longer than delivery.timeout (%s), got %s: a lease shorter than a request would hand the delivery to another worker mid-flight", duration.Format(c.Delivery.Timeout), duration.Format(c.Delivery.Lease))
	}
	const allowed, denied = "delivery.allowed_targets", "delivery.denied_targets"
	for _, p := range c.Delivery.AllowedTargets {
		if !slices.Contains(c.Delivery.DeniedTargets, p) {
			continue
		}
		i, j := l.targetIndex(allowed, p), l.targetIndex(denied, p)
		key := fmt.Sprintf("%s[%d]", allowed, i)
		var pos *yaml.Node
		if n := l.at(allowed, l.v.Get(allowed)); n != nil && n.Kind == yaml.SequenceNode && i < len(n.Content) {
			pos = n.Content[i]
		}
		l.add(pos, key, "%s is also %s[%d]; list a range in one of them", p, denied, j)
	}
	if c.Instance == "" {
		host, _ := os.Hostname()
		c.Instance = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if l.file != "" {
		// Relative paths in a config file are relative to the file.
		// Paths from a flag or the environment are relative to the
		// working directory; they are made absolute so that they still
		// name the same file whatever reads them later.
		rel := func(key, p string) string {
			if l.outside[key] {
				if abs, err := filepath.Abs(p); err == nil && p != "" {
					return abs
				}
				return p
			}
			return relTo(filepath.Dir(l.file), p)
		}
		for i, d := range c.IntegrationsDirs {
			c.IntegrationsDirs[i] = rel("integrations_dirs", d)
		}
		c.SSH.AuthorizedKeys = rel("ssh.authorized_keys", c.SSH.AuthorizedKeys)
		c.SSH.HostKey = rel("ssh.host_key", c.SSH.HostKey)
	}
}

// targetIndex is where p is written in the list of key.
func (l *loader) targetIndex(key string, p netip.Prefix) int {
	for i, x := range list(l.v.Get(key)) {
		s, _ := scalarText(x, "")
		if q, err := parseTarget(s); err == nil && q == p {
			return i
		}
	}
	return -1
}

// addAt adds a problem with key, pointing at the file when its value came
// from there.
func (l *loader) addAt(key, format string, args ...any) {
	var at *yaml.Node
	if l.v.IsSet(key) {
		at = l.at(key, l.v.Get(key))
	}
	l.add(at, key, format, args...)
}

// lookupPath finds a dotted key ("delivery.denied_targets") in a mapping.
func lookupPath(m *yaml.Node, key string) *yaml.Node {
	for _, k := range strings.Split(key, ".") {
		m = lookupNode(m, k)
	}
	return m
}

// renderOutputProblem says what is wrong with a render output budget, or
// "": a body the relay renders must fit what it may send.
func renderOutputProblem(maxOutput, maxRequestBody int64) string {
	if maxOutput > maxRequestBody {
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
	if n == 1 {
		return "1 byte"
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
// and remembers where it came from. When the loader is lenient, a value
// that cannot be resolved is empty with its Ref.
func (l *loader) resolveSecret(raw string) (Secret, error) {
	s, err := l.resolveSecretStrict(raw)
	if err != nil && l.lenient {
		ref := strings.TrimSpace(raw)
		if strings.HasPrefix(ref, "${") {
			ref = "env:" + ref[2:len(ref)-1]
		}
		return Secret{Ref: ref}, nil
	}
	return s, err
}

// unresolved reports whether s is a secret a lenient loader left empty:
// the checks of its value do not apply.
func (l *loader) unresolved(s Secret) bool {
	return l.lenient && s.Value == "" && s.Ref != ""
}

func (l *loader) resolveSecretStrict(raw string) (Secret, error) {
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
