package config

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/auditrelay/auditrelay/core/duration"
)

// A setting is one setting of the file outside subscriptions: its dotted
// key, where its value goes in a Config, how it is read and checked, and
// its default. The table in settings is the only place a key is written:
// the known keys (anything else in the file is a typo), the loading
// through viper (flag, then AUDITRELAY_* environment, then file), the flags
// Bind binds and Defaults all derive from it.
type setting struct {
	key  string
	flag string // the command-line flag that sets it, if any
	// def is the default as the file would write it ("256MiB", "7d",
	// true); nil leaves the zero value.
	def  any
	read reader
}

// A reader reads one value into its place in a Config and checks it on
// its own; checks that involve several settings are in loader.check. x is
// what viper holds: a YAML scalar or list from the file, a string from a
// flag or the environment, or whatever a caller Set. A problem with one
// element of a list is an itemError, so that it can point at the element.
type reader func(l *loader, x any) error

// settings lists every setting, reading into c.
func settings(c *Config) []setting {
	d := &c.Delivery
	return append([]setting{
		{key: "data_dir", flag: "data-dir", def: "./auditrelay-data", read: text(&c.DataDir)},
		{key: "store", flag: "store", read: text(&c.Store, storeProblem)},
		{key: "sqlite.synchronous", def: "normal", read: oneOf(&c.SQLite.Synchronous, "normal", "full")},
		{key: "sqlite.wal_max", def: "256MiB", read: size(&c.SQLite.WALMax, 4<<20)},
		{key: "runtime.gc_percent", def: 400, read: integer(&c.Runtime.GCPercent, 10, nil)},
		{key: "runtime.memory_limit", def: "96MiB", read: size(&c.Runtime.MemoryLimit, 0, memoryLimitProblem)},
		{key: "instance", read: text(&c.Instance)},
		{key: "base_url", def: "https://app.launchdarkly.com", read: text(&c.BaseURL)},
		{key: "integrations_dirs", flag: "integrations-dir", read: texts(&c.IntegrationsDirs)},

		{key: "log.level", flag: "log-level", def: "info", read: oneOf(&c.Log.Level, "debug", "info", "warn", "error")},
		{key: "log.format", flag: "log-format", def: "text", read: oneOf(&c.Log.Format, "text", "json")},
		{key: "log.repeat_window", def: "10s", read: length(&c.Log.RepeatWindow, 0)},

		{key: "http.listen", flag: "listen", def: "127.0.0.1:8080", read: text(&c.HTTP.Listen)},
		{key: "admin.listen", flag: "admin-listen", def: "127.0.0.1:8081", read: text(&c.Admin.Listen)},
		{key: "admin.token", read: secret(&c.Admin.Token, adminTokenProblem)},

		{key: "sources.webhook.enabled", def: true, read: boolean(&c.Webhook.Enabled)},
		{key: "sources.webhook.path", def: "/v1/launchdarkly", read: text(&c.Webhook.Path, webhookPathProblem)},
		{key: "sources.webhook.secret", read: secret(&c.Webhook.Secret, nil)},
		{key: "sources.webhook.max_body", def: "1MiB", read: size(&c.Webhook.MaxBody, 1)},
		{key: "sources.webhook.max_entries", def: 1000, read: integer(&c.Webhook.MaxEntries, 1, nil)},
		{key: "sources.webhook.max_in_flight", def: 32, read: integer(&c.Webhook.MaxInFlight, 1, nil)},
		{key: "sources.webhook.store_timeout", def: "5s", read: length(&c.Webhook.StoreTimeout, positive)},

		{key: "sources.poller.enabled", read: boolean(&c.Poller.Enabled)},
		{key: "sources.poller.base_url", def: "https://app.launchdarkly.com", read: text(&c.Poller.BaseURL)},
		{key: "sources.poller.token", read: secret(&c.Poller.Token, nil)},
		{key: "sources.poller.interval", def: "30s", read: length(&c.Poller.Interval, positive)},
		{key: "sources.poller.limit", def: 20, read: integer(&c.Poller.Limit, 1, pollerLimitProblem)},
		{key: "sources.poller.spec", read: text(&c.Poller.Spec)},

		{key: "delivery.timeout", def: "15s", read: length(&d.Timeout, positive)},
		{key: "delivery.connect_timeout", def: "5s", read: length(&d.ConnectTimeout, positive)},
		{key: "delivery.max_response_body", def: "64KiB", read: size(&d.MaxResponseBody, 1)},
		{key: "delivery.max_request_body", def: "5MiB", read: size(&d.MaxRequestBody, 1)},
		{key: "delivery.lease", def: "45s", read: length(&d.Lease, 0)},
		{key: "delivery.allowed_targets", read: targets(&d.AllowedTargets)},
		{key: "delivery.denied_targets", read: targets(&d.DeniedTargets)},
		{key: "delivery.poison_after", def: 3, read: integer(&d.PoisonAfter, 1, nil)},
		{key: "delivery.retry.schedule", def: "5s, 30s, 2m, 10m, 30m, 1h, 2h, 4h, 8h, 12h", read: delays(&d.Schedule)},
		{key: "delivery.retry.jitter", def: 0.2, read: fraction(&d.Jitter)},
		{key: "delivery.retry.max_retry_after", def: "1d", read: length(&d.MaxRetryAfter, 0)},

		{key: "retention.max_age", def: "7d", read: length(&c.Retention.MaxAge, 0)},
		{key: "retention.failed_max_age", def: "30d", read: length(&c.Retention.FailedMaxAge, 0)},
		{key: "retention.max_entries", def: 1_000_000, read: integer(&c.Retention.MaxEntries, 0, nil)},
		{key: "retention.interval", def: "1m", read: length(&c.Retention.Interval, 0)}, // 0: no pruning

		{key: "ssh.listen", flag: "ssh", read: text(&c.SSH.Listen)},
		{key: "ssh.authorized_keys", flag: "authorized-keys", read: text(&c.SSH.AuthorizedKeys)},
		{key: "ssh.host_key", read: text(&c.SSH.HostKey)},
		{key: "ssh.max_sessions", def: 16, read: integer(&c.SSH.MaxSessions, 1, nil)},
		{key: "ssh.idle_timeout", def: "30m", read: length(&c.SSH.IdleTimeout, 0)},
	}, within("delivery.render.", renderSettings(&d.Render))...)
}

// renderSettings are the settings of a render budget: delivery.render,
// and a subscription's render over it.
func renderSettings(b *RenderBudget) []setting {
	return []setting{
		{key: keyMaxOutput, def: "1MiB", read: size(&b.MaxOutput, 1)},
		{key: "max_steps", def: 1_000_000, read: integer(&b.MaxSteps, minRenderSteps, nil)},
	}
}

// keyMaxOutput is the render setting checked against
// delivery.max_request_body.
const keyMaxOutput = "max_output"

// minRenderSteps is the smallest render step budget accepted: below it
// ordinary templates would fail.
const minRenderSteps = 1000

// within puts settings under a section.
func within(section string, ss []setting) []setting {
	for i := range ss {
		ss[i].key = section + ss[i].key
	}
	return ss
}

// schema is the tree of known keys: nil values are settings, maps are
// sections. subscriptions is read apart (see loader.subscriptions).
func schema() map[string]any {
	root := map[string]any{keySubscriptions: nil}
	for _, s := range settings(&Config{}) {
		m := root
		parts := strings.Split(s.key, ".")
		for _, p := range parts[:len(parts)-1] {
			sub, ok := m[p].(map[string]any)
			if !ok {
				sub = map[string]any{}
				m[p] = sub
			}
			m = sub
		}
		m[parts[len(parts)-1]] = nil
	}
	return root
}

// Defaults returns the configuration used when nothing is set.
func Defaults() Config {
	var c Config
	l := loader{env: func(string) (string, bool) { return "", false }}
	for _, s := range settings(&c) {
		if s.def == nil {
			continue
		}
		if err := s.read(&l, s.def); err != nil {
			// The table is code: a default it cannot read is a bug
			// TestDefaults catches, not input.
			panic(fmt.Sprintf("config: default of %s: %v", s.key, err))
		}
	}
	return c
}

// itemError is a problem with element i of a list setting.
type itemError struct {
	i   int
	err error
}

func (e itemError) Error() string { return e.err.Error() }

// Readers, one per kind of value. On a problem a scalar is left as it
// was (the default stays in place); a list keeps its good elements.

func text(dst *string, check ...func(string) string) reader {
	return func(_ *loader, x any) error {
		s, err := scalarText(x, "a string")
		if err != nil {
			return err
		}
		for _, c := range check {
			if msg := c(s); msg != "" {
				return errors.New(msg)
			}
		}
		*dst = s
		return nil
	}
}

// scalarText is a scalar as text, trimmed; want names what was expected.
func scalarText(x any, want string) (string, error) {
	switch t := x.(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(t), nil
	case []any, map[string]any:
		return "", fmt.Errorf("expected %s, got %s", want, show(x))
	}
	return fmt.Sprint(x), nil
}

func oneOf(dst *string, allowed ...string) reader {
	return func(_ *loader, x any) error {
		s, _ := scalarText(x, "")
		for _, a := range allowed {
			if s == a {
				*dst = s
				return nil
			}
		}
		return fmt.Errorf("expected %s, got %s", orList(allowed), show(x))
	}
}

// orList writes "a, b or c".
func orList(xs []string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}

func boolean(dst *bool) reader {
	return func(_ *loader, x any) error {
		switch t := x.(type) {
		case bool:
			*dst = t
			return nil
		case string:
			if b, err := strconv.ParseBool(strings.TrimSpace(t)); err == nil {
				*dst = b
				return nil
			}
		}
		return fmt.Errorf("expected true or false, got %s", show(x))
	}
}

// integer reads a whole number of at least min; check, when set, adds a
// rule of its own.
func integer(dst *int, min int, check func(int) string) reader {
	return func(_ *loader, x any) error {
		n, ok := wholeNumber(x)
		if !ok || n < min {
			return fmt.Errorf("expected an integer ≥ %d, got %s", min, show(x))
		}
		if check != nil {
			if msg := check(n); msg != "" {
				return errors.New(msg)
			}
		}
		*dst = n
		return nil
	}
}

func wholeNumber(x any) (int, bool) {
	switch t := x.(type) {
	case int:
		return t, true
	case int64:
		return int(t), t >= math.MinInt && t <= math.MaxInt
	case uint64:
		return int(t), t <= math.MaxInt
	case float64:
		return int(t), t == math.Trunc(t) && math.Abs(t) < 1<<53
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(t))
		return n, err == nil
	}
	return 0, false
}

// size reads a byte size (see ParseSize) of at least min.
func size(dst *int64, min int64, checks ...func(int64) string) reader {
	return func(_ *loader, x any) error {
		s, err := scalarText(x, "a size such as 1MiB, 64KiB or 4096")
		if err != nil {
			return err
		}
		n, err := ParseSize(s)
		if err != nil {
			return err
		}
		if n < min {
			return fmt.Errorf("expected a size of at least %s, got %s", sizeString(min), sizeString(n))
		}
		for _, check := range checks {
			if msg := check(n); msg != "" {
				return errors.New(msg)
			}
		}
		*dst = n
		return nil
	}
}

// memoryLimitProblem refuses a memory limit so low that the collector
// would run without pause: 0 (none) or at least 32 MiB.
func memoryLimitProblem(n int64) string {
	if n != 0 && n < 32<<20 {
		return fmt.Sprintf("expected 0 (no limit) or a size of at least 32MiB, got %s", sizeString(n))
	}
	return ""
}

// positive is the min of a duration that must be longer than 0.
const positive = time.Nanosecond

// length reads a duration (see core/duration) of at least min.
func length(dst *time.Duration, min time.Duration) reader {
	return func(_ *loader, x any) error {
		d, err := parseDuration(x)
		if err != nil {
			return err
		}
		if d < min {
			if min == positive {
				return fmt.Errorf("expected a duration longer than 0, got %s", show(x))
			}
			return fmt.Errorf("expected a duration of at least %s, got %s", duration.Format(min), show(x))
		}
		*dst = d
		return nil
	}
}

// parseDuration reads a duration from the file (where a number without a
// unit is an int), a flag or the environment (text), or a caller's Set.
func parseDuration(x any) (time.Duration, error) {
	switch t := x.(type) {
	case time.Duration:
		if t < 0 {
			return 0, fmt.Errorf("expected a duration such as 30s, 5m, 24h or 7d, got %s: durations are not negative", t)
		}
		return t, nil
	case []any, map[string]any:
		return 0, fmt.Errorf("expected a duration such as 30s, 5m, 24h or 7d, got %s", show(x))
	case nil:
		return duration.Parse("")
	}
	return duration.Parse(fmt.Sprint(x))
}

func fraction(dst *float64) reader {
	return func(_ *loader, x any) error {
		var f float64
		var err error
		switch t := x.(type) {
		case float64:
			f = t
		case int:
			f = float64(t)
		case string:
			f, err = strconv.ParseFloat(strings.TrimSpace(t), 64)
		default:
			err = errors.New("not a number")
		}
		if err != nil || !(f >= 0 && f < 1) {
			return fmt.Errorf("expected a fraction in [0, 1) such as 0.2, got %s", show(x))
		}
		*dst = f
		return nil
	}
}

func secret(dst *Secret, check func(Secret) string) reader {
	return func(l *loader, x any) error {
		raw, err := scalarText(x, "a secret, env:NAME or file:PATH")
		if err != nil {
			return err
		}
		s, err := l.resolveSecret(raw)
		if err != nil {
			return err
		}
		if check != nil && !l.unresolved(s) {
			if msg := check(s); msg != "" {
				return errors.New(msg)
			}
		}
		*dst = s
		return nil
	}
}

// list is the elements of a list setting: a YAML list, or one string of
// elements separated by commas or spaces (a flag or environment variable).
func list(x any) []any {
	switch t := x.(type) {
	case nil:
		return []any{}
	case string:
		fields := strings.FieldsFunc(t, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
		out := make([]any, len(fields))
		for i, f := range fields {
			out[i] = f
		}
		return out
	case []any:
		return t
	case []string:
		out := make([]any, len(t))
		for i, s := range t {
			out[i] = s
		}
		return out
	case []time.Duration:
		out := make([]any, len(t))
		for i, d := range t {
			out[i] = d
		}
		return out
	}
	return []any{x}
}

func texts(dst *[]string) reader {
	return func(_ *loader, x any) error {
		var out []string
		var errs []error
		for i, it := range list(x) {
			s, err := scalarText(it, "a string")
			if err != nil {
				errs = append(errs, itemError{i, err})
				continue
			}
			out = append(out, s)
		}
		// The elements that are right stay, so that rules across
		// settings still see them.
		*dst = out
		return errors.Join(errs...)
	}
}

// delays reads the retry schedule: positive durations. An empty list means
// no retries. (How many a schedule may have is delivery.Schedule's rule.)
func delays(dst *[]time.Duration) reader {
	return func(_ *loader, x any) error {
		items := list(x)
		out := make([]time.Duration, 0, len(items))
		var errs []error
		for i, it := range items {
			d, err := parseDuration(it)
			if err == nil && d <= 0 {
				err = fmt.Errorf("expected a positive duration such as 30s or 2h, got %s", show(it))
			}
			if err != nil {
				errs = append(errs, itemError{i, err})
				continue
			}
			out = append(out, d)
		}
		// The elements that are right stay, so that rules across
		// settings still see them.
		*dst = out
		return errors.Join(errs...)
	}
}

// targets reads a list of CIDR ranges or single addresses. IPv4-mapped
// ranges become the IPv4 range they cover.
func targets(dst *[]netip.Prefix) reader {
	return func(_ *loader, x any) error {
		var out []netip.Prefix
		var errs []error
		for i, it := range list(x) {
			s, _ := scalarText(it, "")
			p, err := parseTarget(s)
			if err != nil {
				errs = append(errs, itemError{i, err})
				continue
			}
			out = append(out, p)
		}
		// The elements that are right stay, so that rules across
		// settings still see them.
		*dst = out
		return errors.Join(errs...)
	}
}

func parseTarget(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil || a.Zone() != "" {
			return p, fmt.Errorf("expected a CIDR range such as 10.0.0.0/8 or fd00::/8, or an IP address, got %q", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	if m := p.Masked(); m != p {
		return p, fmt.Errorf("%s has bits set past the /%d prefix: did you mean %s (the range) or %s (the address)?", s, p.Bits(), m, netip.PrefixFrom(p.Addr(), p.Addr().BitLen()))
	}
	return p, nil
}

// show quotes a value for a problem: "10s", "0", a list, nothing.
func show(x any) string {
	switch t := x.(type) {
	case nil:
		return "nothing"
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	case string:
		return strconv.Quote(t)
	case time.Duration:
		return strconv.Quote(duration.Format(t))
	}
	return strconv.Quote(fmt.Sprint(x))
}

// Rules of single settings.

func storeProblem(s string) string {
	if s != "" && !strings.HasPrefix(s, "postgres://") && !strings.HasPrefix(s, "postgresql://") && !strings.HasPrefix(s, "sqlite:") {
		return fmt.Sprintf("expected empty (embedded SQLite in data_dir), sqlite:PATH or a postgres:// URL, got %q", s)
	}
	return ""
}

func webhookPathProblem(s string) string {
	if !strings.HasPrefix(s, "/") {
		return fmt.Sprintf("expected a path starting with /, got %q", s)
	}
	return ""
}

func pollerLimitProblem(n int) string {
	if n > 20 {
		return fmt.Sprintf("LaunchDarkly pages at most 20 entries, got %d", n)
	}
	return ""
}

// MinAdminToken is the shortest admin.token accepted.
const MinAdminToken = 16

// adminTokenProblem: the token is all that guards retries and ingests over
// the admin API; it travels as "Authorization: Bearer <token>". Empty has
// one generated.
func adminTokenProblem(s Secret) string {
	switch tok := s.Value; {
	case tok == "":
	case len(tok) < MinAdminToken:
		return fmt.Sprintf("is %d characters, expected at least %d: use a long random value (openssl rand -hex 32), or leave it empty to have one generated into data_dir/admin.token", len(tok), MinAdminToken)
	case strings.ContainsFunc(tok, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return "contains spaces or control characters, which an Authorization header cannot carry"
	}
	return ""
}

// sortedKeys lists a section's keys for "known here" messages.
func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
