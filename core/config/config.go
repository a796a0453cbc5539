// Package config loads auditrelay's configuration: scalar settings through
// viper (flag, then AUDITRELAY_* environment, then file, then default) and
// the subscriptions straight from the YAML file.
//
// Each setting is declared once, in the table of settings.go (and a
// subscription's in subscription.go): its key, its default written as in
// the file, the flag that sets it and the reader that parses and checks
// it. The known keys (anything else in the file is a typo), the loading,
// Bind and Defaults derive from that table, and a problem points at the
// file, line and column of the value. Durations are core/duration's
// grammar everywhere.
//
// Subscriptions are read from the YAML node tree rather than through viper
// because viper lower-cases every key, including form-variable keys such as
// "apiKey" that templates reference case-sensitively, and because the node
// tree keeps line and column for error messages and lets the console write
// an edited value back without losing the operator's comments.
package config

import (
	"net/netip"
	"time"

	"github.com/auditrelay/auditrelay/core/mask"
)

// Config is the whole validated configuration.
type Config struct {
	File             string // config file path, "" when running on defaults
	DataDir          string // SQLite database, SSH host key, template overrides
	Store            string // "" = SQLite in DataDir; "postgres://..." = PostgreSQL
	SQLite           SQLite
	Instance         string // id stamped on leases and attempts
	BaseURL          string // LaunchDarkly app URL used for links in template contexts
	IntegrationsDirs []string
	Log              Log
	HTTP             HTTP
	Admin            Admin
	Webhook          Webhook
	Poller           Poller
	Delivery         Delivery
	Retention        Retention
	SSH              SSH
	Runtime          Runtime
	Subscriptions    []Subscription
}

// Runtime tunes Go's garbage collector in the processes that run the
// engine (serve and the console). GOGC and GOMEMLIMIT in the environment
// win over both, as they do for any Go program.
type Runtime struct {
	// GCPercent is GOGC: how far the heap may grow past what the last
	// collection left live before the next one starts. The relay keeps
	// little live and allocates for every event, so the default (400)
	// trades a few tens of MB for a fifth less CPU per event.
	GCPercent int
	// MemoryLimit is GOMEMLIMIT: past it the collector runs sooner,
	// whatever GCPercent says, so the larger heap GCPercent allows stays
	// bounded. 0 sets none.
	MemoryLimit int64
}

// Log configures structured logging.
type Log struct {
	Level  string // debug, info, warn, error
	Format string // text or json
	// RepeatWindow: warnings and errors identical to one logged less than
	// this long ago are counted instead of written, and the count is
	// logged when the window ends. 0 writes every one.
	RepeatWindow time.Duration
}

// SQLite tunes the embedded store.
type SQLite struct {
	// Synchronous is "normal" (a commit survives a crash of the process;
	// the last commits may roll back on power loss) or "full" (a commit
	// also survives power loss, at one fsync per group commit).
	Synchronous string
	// WALMax bounds the write-ahead log in bytes: past it, the store
	// restarts the log, which stalls writes for the length of two fsyncs.
	// Larger means rarer stalls and more disk. Default 256 MiB.
	WALMax int64
}

// HTTP is the public listener: the webhook receiver, /healthz, /readyz and
// /metrics.
type HTTP struct {
	Listen string
}

// Admin is the token-protected admin API used by `auditrelay deliveries`.
type Admin struct {
	Listen string // loopback by default
	Token  Secret
}

// Webhook configures the LaunchDarkly webhook receiver.
type Webhook struct {
	Enabled bool
	Path    string
	Secret  Secret // X-LD-Signature secret; empty accepts unsigned requests (with a warning)
	MaxBody int64
	// MaxEntries bounds the entries of one request (an array); more is 413.
	MaxEntries int
	// MaxInFlight bounds the requests handled at once; more are 503 with
	// Retry-After before their body is read.
	MaxInFlight int
	// StoreTimeout bounds a request's wait for the store; past it the
	// request is answered 503 with Retry-After.
	StoreTimeout time.Duration
}

// Poller configures the LaunchDarkly REST audit-log poller.
type Poller struct {
	Enabled  bool
	BaseURL  string
	Token    Secret
	Interval time.Duration
	Limit    int    // page size, 1–20
	Spec     string // optional resource specifier filter
}

// Delivery configures HTTP delivery and the retry schedule.
type Delivery struct {
	Timeout         time.Duration
	ConnectTimeout  time.Duration
	MaxResponseBody int64
	// MaxRequestBody is the largest body sent; a larger one fails the
	// delivery unsent. Render budgets may not exceed it.
	MaxRequestBody int64
	Schedule       []time.Duration // delays before retry 1, 2, ...
	Jitter         float64
	MaxRetryAfter  time.Duration
	Lease          time.Duration
	// AllowedTargets, when not empty, are the only ranges deliveries may
	// connect to; DeniedTargets are refused on top of the built-in
	// link-local and metadata ranges. See delivery.Targets for the rules.
	AllowedTargets []netip.Prefix
	DeniedTargets  []netip.Prefix
	// Render is the render budget of subscriptions that set none.
	Render RenderBudget
	// PoisonAfter fails a delivery whose lease expired this many times in
	// a row (the process stopped or hung while attempting it) instead of
	// attempting it again.
	PoisonAfter int
}

// RenderBudget bounds one render of a subscription's templates (see
// core/render.Budget): a template that expands an entry beyond it fails
// the delivery with the reason instead of exhausting memory.
type RenderBudget struct {
	MaxOutput int64 // bytes of rendered output, at most Delivery.MaxRequestBody
	MaxSteps  int   // evaluation steps: statements, loop iterations, 64-byte units of helper text
}

// Retention prunes delivered history.
type Retention struct {
	MaxAge       time.Duration
	FailedMaxAge time.Duration
	MaxEntries   int
	Interval     time.Duration
}

// SSH serves the console over SSH.
type SSH struct {
	Listen         string // "" = off
	AuthorizedKeys string // file: one key per line, with a role
	HostKey        string // path; generated on first start
	MaxSessions    int
	IdleTimeout    time.Duration
}

// Subscription sends entries to one integration with its own form values,
// policy and limits. Several subscriptions may use the same integration.
type Subscription struct {
	Name        string
	Integration string // built-in name, directory name under IntegrationsDirs, or a path
	Enabled     bool
	Vars        map[string]Var
	// Policy is the override policy as JSON (a statement array), nil to
	// use the manifest's defaultPolicy. PolicyFile is where it came from
	// when it was given as a file.
	Policy           []byte
	PolicyFile       string
	Concurrency      int
	Rate             float64 // deliveries per second, 0 = unlimited
	Burst            int
	StandardWebhooks Secret // whsec_ secret: sign with Standard Webhooks headers
	OAuth            *OAuth
	Templates        map[string]string // template key → override file
	// Render is the subscription's render budget: delivery.render with
	// the subscription's own render settings applied.
	Render RenderBudget
	Line   int // where the subscription starts in File
}

// Var is one form-variable value as configured.
type Var struct {
	Value any    // string or bool after resolving Ref
	Ref   string // "env:NAME" or "file:PATH" when the value came from there
}

// OAuth is the oauth object templates see for integrations that require it.
type OAuth struct {
	BaseURI     string
	AccessToken Secret
}

// Secret is a value that must never be logged or shown unmasked. Ref tells
// where it came from ("env:NAME", "file:PATH") when not written inline.
type Secret struct {
	Value string
	Ref   string
}

// String masks the secret so that printing a Secret by accident leaks
// nothing.
func (s Secret) String() string { return mask.Value(s.Value) }

// GoString masks the secret in %#v too.
func (s Secret) GoString() string { return "config.Secret{" + s.String() + "}" }
