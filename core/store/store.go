package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// State is where a delivery stands.
type State string

// Delivery states. Delivered, Failed, Filtered and Skipped are terminal; a
// Failed delivery can be retried by an operator, which makes it Pending.
const (
	Pending   State = "pending"   // waiting for its next attempt at NextAttemptAt
	InFlight  State = "inflight"  // claimed by an owner until LeaseUntil
	Delivered State = "delivered" // the endpoint answered 2xx
	Failed    State = "failed"    // gave up: retries exhausted, a non-retryable answer, or the subscription was disabled
	Filtered  State = "filtered"  // the subscription's policy did not allow the entry
	Skipped   State = "skipped"   // nothing to send (no template for the kind, empty body, custom delivery method)
)

// Terminal reports whether no further attempt will happen without an
// operator's retry.
func (s State) Terminal() bool {
	return s == Delivered || s == Failed || s == Filtered || s == Skipped
}

// Errors callers can test for with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("store is closed")
	// ErrSchemaTooNew means the database was migrated by a newer auditrelay;
	// this binary refuses to write into it.
	ErrSchemaTooNew = errors.New("database schema is newer than this binary")
)

// CheckOpen returns ErrClosed once closing is closed: a backend closes it
// when its Close begins, and every method checks it first.
func CheckOpen(closing <-chan struct{}) error {
	select {
	case <-closing:
		return ErrClosed
	default:
		return nil
	}
}

// EntrySummary is what lists show of an audit-log entry.
type EntrySummary struct {
	ID          string    // LaunchDarkly's _id; the dedupe key
	Date        time.Time // the entry's date
	ReceivedAt  time.Time
	Source      string // "webhook", "poller", "replay", "demo"
	Kind        string // flag, project, environment, member, segment, ...
	Title       string // plain-text title
	Member      string // actor's email
	Project     string // project key, "" when not project-scoped
	Environment string // environment key, "~" for all environments, "" when none
	// ListItem is set when the entry was stored as a list item of the
	// audit-log API, without the full entry's currentVersion,
	// previousVersion and delta (its full entry was gone, or not
	// fetched), and says why: templates reading those rendered without
	// them. "" for a full entry.
	ListItem string
}

// Entry is an entry with its raw JSON and its deliveries (one per
// subscription that existed when it was ingested).
type Entry struct {
	EntrySummary
	Raw        []byte
	Deliveries []Delivery
}

// NewEntry is an entry to ingest with the deliveries its policy decisions
// produced.
type NewEntry struct {
	EntrySummary
	Raw        []byte
	Deliveries []NewDelivery
}

// NewDelivery is the decision for one subscription: Pending when the
// policy allows the entry, Filtered (with the explanation in Reason) when
// it does not, or Skipped.
type NewDelivery struct {
	ID            string // stable delivery id, sent with every attempt
	Subscription  string
	State         State
	Reason        string // one-line policy explanation or skip reason
	NextAttemptAt time.Time
	// Lease, on a Pending delivery, stores it claimed already: InFlight,
	// its first attempt leased to Lease.Owner until Lease.Until, exactly
	// as a Claim at ingest time would have left it. An engine that has a
	// free worker for the entry it just accepted uses it to skip the Claim
	// round trip; Claim's limits (MaxInFlight, Rate, paused) are then the
	// caller's to respect.
	Lease *Lease
}

// Lease is who holds a claimed delivery, and until when.
type Lease struct {
	Owner string
	Until time.Time
}

// EntryDelivery is a delivery to add to an entry already stored: a
// resend to a subscription that did not exist, or did not allow the
// entry, when the entry arrived.
type EntryDelivery struct {
	EntryID string
	NewDelivery
}

// IngestResult tells, per entry in input order, whether it was new.
type IngestResult struct {
	EntryID   string
	Duplicate bool // an entry with this ID was already stored; nothing was added
}

// Cursor is a source's position, advanced in the same transaction as the
// entries it produced so a crash cannot skip or repeat a page.
type Cursor struct {
	Source    string
	Position  string
	UpdatedAt time.Time
}

// Delivery is one entry × subscription.
type Delivery struct {
	ID           string
	EntryID      string
	Subscription string
	State        State
	Reason       string // policy explanation, skip reason or last failure
	Attempts     int    // attempts made so far (also the fencing token)
	Step         int    // position in the retry schedule; reset by an operator retry
	// Lost counts the attempts in a row whose lease expired without an
	// outcome (RescueExpired); an outcome or an operator retry resets it.
	Lost          int
	NextAttemptAt time.Time
	LeaseOwner    string
	LeaseUntil    time.Time
	LastStatus    int // HTTP status of the last attempt, 0 when none
	LastError     string
	LastLatency   time.Duration
	LastAttemptAt time.Time // when the last attempt started; set by Claim, refined by Finish from Record.StartedAt
	CreatedAt     time.Time
	UpdatedAt     time.Time
	EntryDate     time.Time
	EntryKind     string
	EntryTitle    string
}

// Header is one HTTP header name and value.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Attempt is one try at delivering, successful or not. In an Outcome's
// Record, DeliveryID and Number may be left empty: the store takes them from
// the Outcome (DeliveryID, Attempt).
type Attempt struct {
	DeliveryID      string
	Number          int // 1-based, equals Delivery.Attempts after the attempt
	Instance        string
	Trigger         string // "auto", "manual" (operator retry)
	StartedAt       time.Time
	Duration        time.Duration
	URL             string // with secrets masked
	RequestDigest   string // sha256 hex over method, url, headers and body as sent
	Template        string // template path used, "" for the standard payload
	TemplateHash    string // sha256 hex of the template source
	StatusCode      int    // 0 when no response arrived
	ErrorClass      string // "", "status", "timeout", "connect", "tls", "protocol", "render", "canceled", "worker-lost", "body-too-large"
	Error           string
	ResponseHeaders []Header // a selection (Retry-After, Content-Type, ...)
	ResponseBody    []byte   // capped; kept when the integration asks for error bodies
	// Request is the request as sent; nil when none was made (a render
	// failure, a lost worker) or for attempts stored before it was kept.
	Request *SentRequest
}

// ClaimParams asks for due deliveries of one subscription. The store applies
// MaxInFlight and the rate limit atomically across every instance that
// shares it, and claims nothing while the subscription is paused or
// disabled. Deliveries come ordered by NextAttemptAt, then ingest order.
type ClaimParams struct {
	Subscription string
	Owner        string        // instance/worker id stamped on the lease
	Limit        int           // at most this many now (at least 1)
	MaxInFlight  int           // cap on InFlight deliveries of the subscription, 0 = none
	Rate         float64       // deliveries per second, 0 = unlimited
	Burst        int           // token bucket size for Rate; values below 1 mean 1
	Lease        time.Duration // how long the claim holds without Finish (> 0)
	Now          time.Time     // zero means the store's clock
}

// Claimed is a leased delivery with what is needed to attempt it.
type Claimed struct {
	Delivery
	EntryRaw []byte
}

// ClaimResult is what Claim found.
type ClaimResult struct {
	Claimed []Claimed
	// NextDue is when a Claim may find more: the earliest NextAttemptAt among
	// Pending deliveries of the subscription that were not claimed, or, when
	// due deliveries were throttled, the later of that and the moment the
	// limit gives way (the next rate token; the earliest LeaseUntil of the
	// subscription's InFlight deliveries for MaxInFlight); when Throttled it
	// is always after now. Zero when nothing is pending, or while the
	// subscription is paused or disabled. Workers sleep until then unless a
	// Change wakes them.
	NextDue time.Time
	// Throttled is set when the rate limit or MaxInFlight held deliveries
	// back that were due.
	Throttled bool
	// Paused and Disabled report the subscription's state when it held
	// everything back.
	Paused, Disabled bool
}

// Outcome finishes a claimed delivery. It applies only while the delivery is
// still InFlight, owned by Owner, at attempt Attempt; otherwise it is
// ignored (the lease was lost and someone else owns the delivery now).
type Outcome struct {
	DeliveryID string
	// Subscription is the delivery's subscription, as claimed. Like Owner
	// and Attempt it is part of the fence: an outcome naming another
	// subscription applies to nothing. Carrying it saves the store from
	// reading it back for the change notice.
	Subscription  string
	Owner         string
	Attempt       int
	State         State     // Delivered, Pending (retry later), Failed or Skipped
	NextAttemptAt time.Time // for Pending; zero means now
	Step          int       // the retry schedule position after this attempt
	Reason        string
	Record        *Attempt // the attempt to log; nil when no request was made
	// DisableSubscription, when set, disables the subscription with this
	// reason in the same transaction (an endpoint answered 410 Gone).
	DisableSubscription string
}

// FinishResult tells how many outcomes applied; the rest lost their lease.
type FinishResult struct {
	Applied int
	Stale   []string // delivery ids whose outcome was ignored
}

// RescueParams asks RescueExpired for the InFlight deliveries whose lease
// ended before Now.
type RescueParams struct {
	Now time.Time // zero means the store's clock
	// PoisonAfter, when > 0, fails a delivery instead of making it Pending
	// once its lease has expired PoisonAfter times in a row (Lost reaches
	// it), with the reason PoisonReason(PoisonAfter): the process
	// attempting it keeps dying or hanging, and attempting it again would
	// only do that again.
	PoisonAfter int
}

// RescueResult tells what RescueExpired did.
type RescueResult struct {
	Requeued int           // made Pending and due
	Poisoned []DeliveryRef // failed as poison
}

// DeliveryRef names a delivery and its subscription.
type DeliveryRef struct {
	ID, Subscription string
}

// PoisonReason is the Reason of a delivery RescueExpired failed after n
// expired leases in a row.
func PoisonReason(n int) string { return fmt.Sprintf(poisonReason, n) }

// PoisonReasonFormat is PoisonReason with "%d" in place of the count, for
// backends that build the reason in SQL.
func PoisonReasonFormat() string { return poisonReason }

const poisonReason = "poison: the process stopped %d times while attempting this delivery (its lease expired without an outcome each time); not attempted again: find the cause in the logs, then retry it"

// RetryParams makes terminal deliveries pending again: one by DeliveryID, or
// every one of Subscription, in States (default: Failed; only terminal
// states are accepted). One of DeliveryID and Subscription is required. The
// deliveries become due at Now with Step 0; Attempts keeps counting.
type RetryParams struct {
	DeliveryID   string
	Subscription string
	States       []State
	Now          time.Time
}

// SubscriptionState is the operator-visible state of a subscription, shared
// by every instance.
type SubscriptionState struct {
	Name      string
	Paused    bool
	Disabled  bool
	Reason    string // why paused or disabled ("410 Gone from https://...", "paused by alice")
	UpdatedBy string
	UpdatedAt time.Time
}

// Action is an operator action worth showing to other operators: retries,
// pauses, edits, with who did them.
type Action struct {
	ID     int64
	At     time.Time
	Actor  string // key name over SSH, "local" in the embedded console, "api" for the admin API
	Kind   string // "retry", "retry-all", "pause", "resume", "edit-vars", "edit-template", "test"
	Target string // delivery id or subscription name
	Detail string
}

// EntryFilter selects entries, newest ReceivedAt first (ties: larger ID
// first). To page, pass the last entry's ReceivedAt and ID as Before and
// BeforeID.
//
// The search fields narrow the list; all given fields must hold, and a
// list field holds when any of its values does. Patterns ignore ASCII case
// and may use * for any run of characters. See search.go for the SQL both
// backends share.
type EntryFilter struct {
	Before   time.Time // ReceivedAt < Before when set (paging)
	BeforeID string    // with Before: also ReceivedAt == Before and ID < BeforeID
	Kind     string
	Limit    int // <= 0 means 100

	Since time.Time // ReceivedAt >= Since when set
	Until time.Time // ReceivedAt < Until when set

	Kinds        []string // kind patterns
	Projects     []string // project patterns
	Environments []string // environment patterns
	Members      []string // member (actor) patterns
	// Text: each occurs in the title, member, kind, project, environment or id.
	Text []string
	// Subscriptions: a delivery of one of them that its policy allowed
	// (state other than Filtered).
	Subscriptions []string
	States        []State     // a delivery in one of these states
	Codes         []CodeRange // a delivery whose last status is in one of these
}

// CodeRange is an inclusive range of HTTP status codes: 429-429, 500-599.
type CodeRange struct{ Min, Max int }

// DeliveryFilter selects deliveries, most recently updated first (ties:
// larger ID first). To page, pass the last delivery's UpdatedAt and ID as
// Before and BeforeID.
type DeliveryFilter struct {
	Subscription string
	EntryID      string
	// EntryIDs: deliveries of any of these entries (at most MaxListIDs),
	// so a list of entries gets its decisions in one query.
	EntryIDs []string
	States   []State
	Before   time.Time // UpdatedAt < Before when set (paging)
	BeforeID string    // with Before: also UpdatedAt == Before and ID < BeforeID
	Limit    int       // <= 0 means 100
}

// SubscriptionStats counts deliveries of one subscription by state; states
// without deliveries are absent from Counts. Subscriptions come sorted by
// name.
type SubscriptionStats struct {
	Subscription  string
	Counts        map[State]int
	OldestPending time.Time // CreatedAt of the oldest Pending delivery, zero when none
}

// PruneParams is the retention policy. Delivered, Filtered and Skipped
// deliveries (and their attempts) whose UpdatedAt is more than MaxAge before
// Now go; Failed ones only after FailedMaxAge (0 keeps them). Pending and
// InFlight deliveries never go. An entry goes once it has no deliveries left
// and its ReceivedAt is older than the shorter non-zero age. Then, while
// there are more than MaxEntries entries, the oldest (by ReceivedAt) whose
// deliveries are all terminal go with their deliveries and attempts, Failed
// ones included: MaxEntries is a hard cap on what is kept.
type PruneParams struct {
	Now          time.Time
	MaxAge       time.Duration // 0 = keep
	FailedMaxAge time.Duration // 0 = keep
	MaxEntries   int           // 0 = no limit
	BatchSize    int           // rows per transaction, default 1000
}

// PruneResult counts what was removed.
type PruneResult struct {
	Entries, Deliveries, Attempts int
}

// ChangeKind says what changed.
type ChangeKind uint8

// Kinds of Change.
const (
	EntriesIngested ChangeKind = iota + 1
	DeliveriesChanged
	SubscriptionChanged
	ActionRecorded
)

// WatchBuffer is how many changes a watcher's channel holds before the
// store starts dropping changes for it.
const WatchBuffer = 64

// Change notifies watchers that something was committed, possibly by
// another instance. It is a hint: readers query the store for details.
type Change struct {
	Kind     ChangeKind
	Instance string // the instance that committed it
	// Subscriptions lists the subscriptions for which Claim may now return
	// more than before: new due work, a freed MaxInFlight slot, a changed
	// subscription state. Empty for claims and actions.
	Subscriptions []string
	IDs           []string // entry, delivery or action ids when known (may be truncated)
	Lost          int      // changes dropped because the watcher fell behind
}

// LeadParams asks for or renews a named leadership lease.
type LeadParams struct {
	Name  string // e.g. "poller"
	Owner string
	TTL   time.Duration
	Now   time.Time
}

// ProbePad is the size of the row ProbeWrite inserts and deletes: about
// what a large entry with its deliveries needs, so that a store with no
// room for one more entry fails the probe too.
const ProbePad = 16 << 10

// Store is the durable queue. Implementations are safe for concurrent use.
type Store interface {
	// Ingest stores new entries with their deliveries in one commit, and
	// advances cursor in the same commit when it is not nil. Entries whose
	// ID is already stored (or repeated earlier in the same call) are
	// reported as duplicates and left unchanged. An invalid entry or delivery
	// (empty ID, a delivery ID already used, two deliveries for one
	// subscription, state InFlight) fails the whole call: nothing is stored.
	Ingest(ctx context.Context, entries []NewEntry, cursor *Cursor) ([]IngestResult, error)

	// AddDeliveries adds deliveries to stored entries in one commit. A
	// delivery whose entry already has one for the subscription is left
	// out (an entry is delivered to a subscription once); the ids of those
	// added are returned in input order. An invalid delivery (empty id,
	// state InFlight, a lease) or an entry that is not stored fails the
	// whole call: nothing is added.
	AddDeliveries(ctx context.Context, ds []EntryDelivery) ([]string, error)

	// Claim leases due deliveries of a subscription.
	Claim(ctx context.Context, p ClaimParams) (ClaimResult, error)
	// Finish records outcomes (and their attempts) of claimed deliveries in
	// one commit. An invalid outcome fails the whole call; a fenced one
	// (the delivery is not in flight under that subscription, owner and
	// attempt) is reported in Stale.
	Finish(ctx context.Context, outcomes []Outcome) (FinishResult, error)
	// RescueExpired makes InFlight deliveries whose lease ended before
	// p.Now Pending again, or Failed as poison (see RescueParams), logging
	// a "worker-lost" attempt for each.
	RescueExpired(ctx context.Context, p RescueParams) (RescueResult, error)

	// Retry makes terminal deliveries pending now, resetting their schedule
	// and Lost; returns how many. ErrNotFound when DeliveryID names no delivery.
	Retry(ctx context.Context, p RetryParams) (int, error)

	// SetSubscriptionState replaces a subscription's state (UpdatedAt zero
	// means now). SubscriptionStates lists every state set, by name.
	SetSubscriptionState(ctx context.Context, s SubscriptionState) error
	SubscriptionStates(ctx context.Context) ([]SubscriptionState, error)

	// RecordAction stores an action and returns it with ID (and At, when
	// zero) filled in. ListActions returns actions at or after since, newest
	// first, at most limit (<= 0 means 100).
	RecordAction(ctx context.Context, a Action) (Action, error)
	ListActions(ctx context.Context, since time.Time, limit int) ([]Action, error)

	GetCursor(ctx context.Context, source string) (Cursor, error) // ErrNotFound when none

	ListEntries(ctx context.Context, f EntryFilter) ([]EntrySummary, error)
	GetEntry(ctx context.Context, id string) (Entry, error) // ErrNotFound
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error)
	GetDelivery(ctx context.Context, id string) (Delivery, []Attempt, error) // ErrNotFound
	Stats(ctx context.Context) ([]SubscriptionStats, error)

	Prune(ctx context.Context, p PruneParams) (PruneResult, error)

	// Watch streams changes until ctx ends. Slow readers never block the
	// store: changes they miss are counted in the next Change's Lost.
	Watch(ctx context.Context) <-chan Change

	// TryLead acquires or renews a leadership lease; true while p.Owner
	// holds it. A lease held by another owner is taken over once Now reaches
	// its expiry (now+TTL of the last successful TryLead). Resign gives it up
	// if owner holds it; otherwise it does nothing.
	TryLead(ctx context.Context, p LeadParams) (bool, error)
	Resign(ctx context.Context, name, owner string) error

	// Ping checks the database is reachable and answers reads.
	Ping(ctx context.Context) error
	// ProbeWrite commits a small write that leaves nothing behind (a row
	// inserted and deleted in one transaction), for /readyz: it fails while
	// the store cannot commit (disk full, read-only, locked by another
	// process or session until ctx ends) and succeeds again once it can.
	ProbeWrite(ctx context.Context) error
	// Close finishes queued writes, closes every Watch channel and releases
	// the database. It is safe to call more than once.
	Close() error
}
