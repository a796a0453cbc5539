// Package api is what the engine offers the console (local and over SSH)
// and the admin HTTP API: the API interface, the views it returns and the
// events of its live feed. It holds types only, so the console builds
// against it without linking the engine or its store; the engine
// (core/engine) implements API and re-exports these names.
//
// Every string in a view is shown as is: the engine has already masked
// secrets in it with core/mask, so no caller masks anything itself.
package api

import (
	"context"
	"errors"
	"time"

	"github.com/auditrelay/auditrelay/core/mask"
)

// API is everything the console (local or over SSH) and the admin HTTP API
// may do with a running engine. They use nothing else: no store, no
// delivery code. Every method is safe for concurrent use, and none blocks on
// a slow caller.
type API interface {
	// Subscribe starts a live feed of engine events. The feed never blocks
	// the engine: when its buffer is full, events are dropped and counted.
	Subscribe(ctx context.Context, buffer int) *Feed

	Subscriptions() []SubscriptionInfo
	Stats() Stats

	Entries(ctx context.Context, q EntryQuery) ([]EntryView, error)
	Entry(ctx context.Context, id string) (EntryDetail, error) // ErrNotFound
	Deliveries(ctx context.Context, q DeliveryQuery) ([]DeliveryView, error)
	Delivery(ctx context.Context, id string) (DeliveryDetail, error) // ErrNotFound

	// Retry makes one failed delivery pending now. It refuses (ErrHeld)
	// while the delivery's subscription is paused or disabled.
	Retry(ctx context.Context, actor, deliveryID string) error
	// ResumeAndRetry makes one failed delivery pending, then resumes its
	// paused or disabled subscription: the retry is queued even when the
	// endpoint disables the subscription again at once (a 410 to the
	// deliveries that waited), and then waits with them.
	ResumeAndRetry(ctx context.Context, actor, deliveryID string) error
	// RetryAll makes every failed delivery of a subscription pending now;
	// ErrHeld while the subscription is paused or disabled.
	RetryAll(ctx context.Context, actor, subscription string) (int, error)
	// ResumeAndRetryAll is RetryAll for a paused or disabled
	// subscription: it queues the retries, then resumes it (as
	// ResumeAndRetry).
	ResumeAndRetryAll(ctx context.Context, actor, subscription string) (int, error)
	// Resend sends stored entries to a subscription again; see
	// ResendParams. ErrHeld while the subscription is paused or disabled
	// (a dry run still counts).
	Resend(ctx context.Context, actor string, p ResendParams) (ResendResult, error)
	// SetPaused pauses or resumes a subscription; resuming a subscription
	// disabled by a 410 re-enables it.
	SetPaused(ctx context.Context, actor, subscription string, paused bool) error
	// Test sends a connection test now, as LaunchDarkly's "validate
	// connection" does: the entry p names, else the integration's
	// validation template, else (a standard-payload integration, or one
	// without a validation template) a sample flag-toggle entry. The
	// result says what happened in Outcome, also when nothing could be
	// sent (custom delivery, nothing rendered); an error means the test
	// could not be made at all (unknown subscription or entry).
	Test(ctx context.Context, actor string, p TestParams) (TestResult, error)

	// Form returns the subscription's form variables with current values,
	// secrets masked.
	Form(subscription string) (Form, error)
	// RevealSecret returns a secret form value unmasked (callers check the
	// operator's role first).
	RevealSecret(ctx context.Context, actor, subscription, key string) (string, error)
	// SaveForm validates values (all of them: a *FormError lists each bad
	// field), saves them to the config file atomically and applies them to
	// new deliveries. Keys absent from values keep their current value.
	SaveForm(ctx context.Context, actor, subscription string, values map[string]any) error
	// PlanForm checks values exactly as SaveForm does and returns what
	// saving them would change, secrets masked, so the console can show
	// the diff and ask first. Invalid values give a *FormError. Nothing is
	// written.
	PlanForm(ctx context.Context, subscription string, values map[string]any) (FormPlan, error)
	// Undo reverts the subscription's last saved form or template change
	// (one step, made since this engine started) and records who did it.
	// It returns what was reverted; ErrNothingToUndo when there is none.
	Undo(ctx context.Context, actor, subscription string) (string, error)

	// Templates lists the subscription's templates with their sources.
	Templates(subscription string) ([]TemplateInfo, error)
	// Preview renders an entry (by id; "" = a built-in sample of the kind
	// the template is for) with template source that need not be saved,
	// for a live preview while editing.
	Preview(ctx context.Context, subscription, key, source, entryID string) (Preview, error)
	// SaveTemplate parses source (refusing it with the reason when it does
	// not parse), writes it atomically keeping a backup of the previous
	// version, and makes new deliveries use it. baseHash is the Hash the
	// editor started from: when the template changed since, the save is
	// refused with ErrConflict.
	SaveTemplate(ctx context.Context, actor, subscription, key, source, baseHash string) (TemplateInfo, error)

	// Actions lists recent operator actions (retries, pauses, edits) with
	// who did them.
	Actions(ctx context.Context, since time.Time, limit int) ([]Action, error)

	// SetGeneratorRate changes the demo generator's rate (entries per
	// second; 0 pauses). ErrNoGenerator when not running the demo.
	SetGeneratorRate(rate float64) error
}

// Errors callers can test with errors.Is.
var (
	ErrNotFound        = errors.New("not found")
	ErrConflict        = errors.New("changed since you opened it")
	ErrNotRetryable    = errors.New("delivery is not failed")
	ErrNoGenerator     = errors.New("no demo generator running")
	ErrUnknownSub      = errors.New("unknown subscription")
	ErrNotEditable     = errors.New("not editable")
	ErrCustomDelivery  = errors.New("integration needs a custom delivery sink")
	ErrNoValidationTpl = errors.New("integration has no validation template")
	ErrNothingToUndo   = errors.New("nothing to undo")
	// ErrHeld refuses a retry or resend into a paused or disabled
	// subscription: the deliveries would wait there. Resume it first
	// (SetPaused false), then retry.
	ErrHeld = errors.New("subscription is paused or disabled")
)

// State is where a delivery stands.
type State string

// Delivery states. A Failed delivery can be retried by an operator, which
// makes it Pending.
const (
	Pending   State = "pending"   // waiting for its next attempt
	InFlight  State = "inflight"  // being attempted
	Delivered State = "delivered" // the endpoint answered 2xx
	Failed    State = "failed"    // gave up; waits for an operator
	Filtered  State = "filtered"  // the subscription's policy did not allow the entry
	Skipped   State = "skipped"   // nothing to send (no template, empty body, custom delivery)
)

// Header is one HTTP header as shown: its value already masked.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Action is one operator action, with who did it.
type Action struct {
	ID     int64
	At     time.Time
	Actor  string // key name over SSH, "local" in the embedded console, "api" for the admin API
	Kind   string // "retry", "retry-all", "pause", "resume", "edit-vars", "edit-template", "undo", "test", "reveal"
	Target string // delivery id or subscription name
	Detail string
}

// Masked is how every secret is shown (see core/mask); a form field whose
// Value is Masked holds a secret that is set.
const Masked = mask.Masked

// EventKind says what an Event reports.
type EventKind uint8

// Kinds of Event.
const (
	EntryReceived       EventKind = iota + 1 // Entry is set, with its decisions
	DeliveryUpdated                          // Delivery is set; Attempt too when an attempt finished
	SubscriptionUpdated                      // Subscription is set (paused, resumed, disabled, edited)
	ActionRecorded                           // Action is set: an operator did something
)

// Event is one thing that happened in the engine, possibly on another
// instance sharing the store.
type Event struct {
	Seq          uint64
	Time         time.Time
	Kind         EventKind
	Entry        *EntryView
	Delivery     *DeliveryView
	Attempt      *AttemptView
	Subscription *SubscriptionInfo
	Action       *Action
}

// Feed is a live subscription to engine events.
type Feed struct {
	// C carries events in order. It is closed when the feed's context ends
	// or the engine stops.
	C <-chan Event
	// dropped counts events lost because C was full.
	dropped func() uint64
}

// Dropped returns how many events were lost because the reader was slow.
func (f *Feed) Dropped() uint64 {
	if f == nil || f.dropped == nil {
		return 0
	}
	return f.dropped()
}

// NewFeed builds a Feed over a channel and a drop counter; for engine
// implementations and tests of the console.
func NewFeed(c <-chan Event, dropped func() uint64) *Feed {
	return &Feed{C: c, dropped: dropped}
}

// SubscriptionInfo is a subscription as the console shows it.
type SubscriptionInfo struct {
	Name            string
	Integration     string // integration key (built-in name or directory name)
	IntegrationName string // the manifest's display name
	Enabled         bool   // from config
	Paused          bool
	Disabled        bool   // disabled by the engine (410 Gone) until resumed
	Reason          string // why paused or disabled
	UpdatedBy       string
	UpdatedAt       time.Time
	CustomDelivery  bool   // deliveryMethod "custom": rendered, never sent over HTTP
	PolicyNote      string // e.g. "no policy: every entry is sent"
	Concurrency     int
	Rate            float64
	Counts          map[State]int
	InFlight        int
	LastAttemptAt   time.Time
	LastStatus      int
	LastError       string
	NextRetryAt     time.Time // earliest pending retry
}

// EntryQuery selects entries, newest received first. To page, pass the
// last entry's ReceivedAt and ID as Before and BeforeID.
//
// The search fields narrow the list; all given fields must hold, and a
// list field holds when any of its values does. Patterns ignore ASCII case
// and may use * for any run of characters.
type EntryQuery struct {
	Before   time.Time
	BeforeID string
	Kind     string
	Limit    int

	Since, Until  time.Time // ReceivedAt in [Since, Until) where set
	Kinds         []string
	Projects      []string
	Environments  []string
	Members       []string
	Text          []string    // each in the title, member, kind, project, environment or id
	Subscriptions []string    // sent to one of them (its policy allowed the entry)
	States        []State     // a delivery in one of these states
	Codes         []CodeRange // a delivery whose last HTTP status is in one of these
}

// CodeRange is an inclusive range of HTTP status codes: 429-429, 500-599.
type CodeRange struct{ Min, Max int }

// EntryView is an entry in lists and the live stream.
type EntryView struct {
	ID          string
	Date        time.Time
	ReceivedAt  time.Time
	Source      string
	Kind        string
	Title       string
	Member      string
	Project     string
	Environment string
	// ListItem is set when the entry was stored as a list item of
	// LaunchDarkly's audit-log API, without the full entry's
	// currentVersion, previousVersion and delta, and says why; its
	// deliveries were rendered from the list item only.
	ListItem  string
	Decisions []Decision
}

// Decision is one subscription's verdict on an entry.
type Decision struct {
	Subscription string
	Sent         bool   // the policy allowed the entry
	Summary      string // one-line explanation
	DeliveryID   string
	State        State
	LastStatus   int // the last attempt's HTTP status, 0 when none
}

// EntryDetail is an entry with its raw JSON, template context and full
// explanations.
type EntryDetail struct {
	EntryView
	Raw         []byte
	Context     []byte // the template context, indented JSON
	Explanation []Explanation
}

// Explanation is the full, multi-line policy explanation for one
// subscription, recomputed with the subscription's current policy.
type Explanation struct {
	Subscription string
	Sent         bool
	Summary      string
	Text         string
	PolicyNote   string // e.g. "policy changed since the entry was ingested"
}

// DeliveryQuery selects deliveries, most recently updated first.
type DeliveryQuery struct {
	Subscription string
	EntryID      string
	States       []State
	Before       time.Time
	Limit        int
}

// DeliveryView is a delivery in lists.
type DeliveryView struct {
	ID            string
	EntryID       string
	Subscription  string
	State         State
	Reason        string
	Attempts      int
	NextAttemptAt time.Time
	LastStatus    int
	LastError     string
	LastLatency   time.Duration
	LastAttemptAt time.Time
	UpdatedAt     time.Time
	EntryDate     time.Time
	EntryKind     string
	EntryTitle    string
}

// AttemptView is one attempt as recorded.
type AttemptView struct {
	DeliveryID      string
	Subscription    string
	Number          int
	Instance        string
	Trigger         string
	StartedAt       time.Time
	Duration        time.Duration
	URL             string // secrets masked
	Template        string
	TemplateHash    string
	StatusCode      int
	ErrorClass      string
	Error           string
	ResponseHeaders []Header
	ResponseBody    string
	Outcome         string // "delivered", "retry at 14:02:11 (…)", "failed: …"
	// Sent is the request this attempt sent, as stored at the time; nil
	// when none was made (a render failure, a lost worker) or for attempts
	// recorded before auditrelay kept them.
	Sent *SentRequest
}

// SentRequest is the request an attempt sent, exactly as it went out
// except that secret values are masked.
type SentRequest struct {
	At           time.Time // when the attempt started
	Method       string
	URL          string
	Headers      []Header // every header sent, including those auditrelay adds
	Body         string   // the bytes sent, not re-indented
	BodyIsJSON   bool
	BodySize     int
	BodyDigest   string // hex SHA-256 of Body
	BodyError    string // why the stored body could not be read (then Body is "")
	Template     string
	TemplateHash string
	VarsHash     string // version of the form values (no secret values in it)
	// Diff is a unified diff from this request ("sent") to what the
	// subscription would send for the entry now ("would send now"),
	// without the headers that differ per attempt (delivery id, attempt,
	// signatures, timestamps); "" when they are the same or when now
	// cannot be rendered. Only DeliveryDetail fills it.
	Diff string
}

// DeliveryDetail is a delivery with its attempts and the request it makes.
type DeliveryDetail struct {
	DeliveryView
	// EntryListItem is the entry's EntryView.ListItem: set when the
	// request was rendered from a list item only.
	EntryListItem string
	Attempts      []AttemptView
	Request       RequestView // rendered now with the subscription's current templates and values
}

// RequestView is a rendered request with secrets masked.
type RequestView struct {
	Template     string
	TemplateHash string
	Method       string
	URL          string
	Headers      []Header
	Body         string // pretty-printed when JSON
	BodyIsJSON   bool
	Skipped      string // why nothing would be sent, "" when something would
	Note         string
}

// ResendParams choose what Resend sends.
type ResendParams struct {
	Subscription string
	// Since is the start of the range: entries received at or after it,
	// or with Failed, deliveries last updated at or after it.
	Since time.Time
	// Kind, when set, keeps only entries of this kind (flag, project, ...).
	Kind string
	// Failed retries the subscription's failed deliveries in the range
	// instead of sending entries.
	Failed bool
	// DryRun counts what would be sent, and queues nothing.
	DryRun bool
	// Resume queues into a paused or disabled subscription, then resumes
	// it (as ResumeAndRetry), instead of refusing (ErrHeld).
	Resume bool
}

// ResendResult counts what Resend found and did.
type ResendResult struct {
	InRange  int      // entries (or failed deliveries) in the range
	Allowed  int      // of those, entries the subscription's policy allows
	Already  int      // allowed entries the subscription already has a delivery for (retry those instead)
	Queued   int      // new deliveries (or retries) queued now; 0 on a dry run
	Delivery []string // the ids queued, at most MaxResendIDs
}

// MaxResendIDs bounds ResendResult.Delivery.
const MaxResendIDs = 1000

// TestParams say what a connection test sends.
type TestParams struct {
	Subscription string
	// EntryID names a stored entry to send as its delivery would be sent;
	// Raw is an entry's JSON to send instead. Both empty: the default.
	EntryID string
	Raw     []byte
}

// TestResult is the answer to a connection test.
type TestResult struct {
	// What names what was rendered: "validation template",
	// "sample flag-toggle entry", "entry <id>".
	What    string
	Request RequestView // the rendered request, masked
	// Sent is the request as it went out, with the headers auditrelay
	// adds (masked); nil when nothing was sent.
	Sent       *SentRequest
	StatusCode int
	Duration   time.Duration
	Error      string
	Body       string // the response body (capped)
	OK         bool
	// Outcome is one line saying what happened, the same wherever the
	// result is shown: "endpoint answered 200 in 12ms", "no answer:
	// connect: …", "not sent: deliveryMethod custom …".
	Outcome string
}

// Form is a subscription's form variables.
type Form struct {
	Subscription string
	Integration  string
	Fields       []FormField
	Editable     bool   // false when there is no config file to save to
	Note         string // why not editable
}

// FormField is one form variable with its current value.
type FormField struct {
	Key           string
	Name          string
	Type          string // string, boolean, uri, enum, ...
	Description   string
	Required      bool
	Secret        bool
	Hidden        bool
	AllowedValues []string
	Default       string
	Placeholder   string
	Value         string // masked when Secret
	Set           bool   // a value is configured (or defaulted)
	Ref           string // "env:NAME"/"file:PATH" when the value comes from there (then read-only)
}

// FormPlan is what a form save would change.
type FormPlan struct {
	Subscription string
	Changes      []FormChange // in the manifest's order
}

// FormChange is one form variable a save changes. Old and New are shown
// as is: a secret's are masked ("" when unset).
type FormChange struct {
	Key    string
	Name   string
	Old    string
	New    string
	Secret bool
}

// FormError lists invalid form values by key.
type FormError struct {
	Fields map[string]string // key → message
}

func (e *FormError) Error() string {
	if len(e.Fields) == 1 {
		for k, m := range e.Fields {
			return k + ": " + m
		}
	}
	return "invalid form values"
}

// TemplateInfo is one template of a subscription.
type TemplateInfo struct {
	Key      string // flag, project, environment, member, default, validation
	Path     string // file it is read from ("builtin:slack/templates/flag.json.hbs" for embedded ones)
	Override string // per-subscription override file, "" when none
	Source   string
	Hash     string // sha256 hex of Source
	JSON     bool   // a JSON template (.json/.json.hbs): the context is JSON-escaped
	Editable bool
	Note     string
	// Warnings, after a save, say where LaunchDarkly's own renderer (Go
	// Handlebars) would send different bytes than auditrelay for the
	// sample contexts, with the line.
	Warnings []TemplateIssue
}

// Preview is a live render while editing.
type Preview struct {
	Request RequestView
	Errors  []TemplateIssue // parse and strict-mode problems, with line:col
	EntryID string          // the entry rendered
}

// TemplateIssue is a template problem at a position.
type TemplateIssue struct {
	Line, Col int
	Severity  string // "error" or "warning"
	Msg       string
}

// Stats is what the console header shows.
type Stats struct {
	Now              time.Time
	Window           time.Duration // the span the series cover
	EntriesPerSec    []float64     // one point per second, oldest first
	DeliveriesPerSec []float64
	FailuresPerSec   []float64
	// The rates now: events per second over the last RateWindow, counted
	// from the engine's own timestamps (the current second's events over
	// the part of it that has passed), so they read right however often
	// and however late the console polls.
	EntriesRate    float64
	DeliveriesRate float64
	FailuresRate   float64
	RateWindow     time.Duration
	LatencyP50     time.Duration // delivery latency over the window
	LatencyP99     time.Duration
	QueueDepth     int // pending + in flight
	Failed         int // failed deliveries waiting for an operator
	Sources        []SourceStatus
	Instance       string
}

// SourceStatus says whether a source is working.
type SourceStatus struct {
	Name      string // "webhook", "poller", "demo"
	Connected bool
	Detail    string // "listening on :8080", "last poll 3s ago", "429, retry in 20s"
	LastEntry time.Time
}
