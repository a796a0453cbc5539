package engine

import "github.com/auditrelay/auditrelay/core/engine/api"

// The API the engine implements and the views it returns are defined in
// core/engine/api, so the console builds against them without linking the
// engine or its store. These names keep the engine's own code and the
// commands writing engine.X; they are the same types and values.

type (
	API              = api.API
	State            = api.State
	Header           = api.Header
	Action           = api.Action
	EventKind        = api.EventKind
	Event            = api.Event
	Feed             = api.Feed
	SubscriptionInfo = api.SubscriptionInfo
	EntryQuery       = api.EntryQuery
	CodeRange        = api.CodeRange
	EntryView        = api.EntryView
	Decision         = api.Decision
	EntryDetail      = api.EntryDetail
	Explanation      = api.Explanation
	DeliveryQuery    = api.DeliveryQuery
	DeliveryView     = api.DeliveryView
	AttemptView      = api.AttemptView
	DeliveryDetail   = api.DeliveryDetail
	RequestView      = api.RequestView
	SentRequest      = api.SentRequest
	TestResult       = api.TestResult
	TestParams       = api.TestParams
	ResendParams     = api.ResendParams
	ResendResult     = api.ResendResult
	Form             = api.Form
	FormField        = api.FormField
	FormError        = api.FormError
	FormPlan         = api.FormPlan
	FormChange       = api.FormChange
	TemplateInfo     = api.TemplateInfo
	Preview          = api.Preview
	TemplateIssue    = api.TemplateIssue
	Stats            = api.Stats
	SourceStatus     = api.SourceStatus
)

// Delivery states.
const (
	Pending   = api.Pending
	InFlight  = api.InFlight
	Delivered = api.Delivered
	Failed    = api.Failed
	Filtered  = api.Filtered
	Skipped   = api.Skipped
)

// Kinds of Event.
const (
	EntryReceived       = api.EntryReceived
	DeliveryUpdated     = api.DeliveryUpdated
	SubscriptionUpdated = api.SubscriptionUpdated
	ActionRecorded      = api.ActionRecorded
)

// Errors callers can test with errors.Is.
var (
	ErrNotFound        = api.ErrNotFound
	ErrNothingToUndo   = api.ErrNothingToUndo
	ErrConflict        = api.ErrConflict
	ErrNotRetryable    = api.ErrNotRetryable
	ErrNoGenerator     = api.ErrNoGenerator
	ErrUnknownSub      = api.ErrUnknownSub
	ErrNotEditable     = api.ErrNotEditable
	ErrCustomDelivery  = api.ErrCustomDelivery
	ErrNoValidationTpl = api.ErrNoValidationTpl
	ErrHeld            = api.ErrHeld
)

// NewFeed is api.NewFeed.
func NewFeed(c <-chan Event, dropped func() uint64) *Feed { return api.NewFeed(c, dropped) }

// MaxResendIDs bounds ResendResult.Delivery.
const MaxResendIDs = api.MaxResendIDs
