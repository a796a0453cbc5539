package tuitest

import (
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/tui/internal/fakeapi"
)

// fakeFixture is the console's fake engine with its demo data; the lead's
// engine tests build the same Fixture over the real engine.
func fakeFixture() Fixture {
	return Fixture{
		API:                  fakeapi.Demo(time.Now),
		FailedDelivery:       fakeapi.FailedDelivery,
		FailedSubscription:   fakeapi.SubSlack,
		FormSubscription:     fakeapi.SubSlack,
		FormField:            "channel",
		FormValue:            "#ops-alerts",
		TemplateSubscription: fakeapi.SubSlack,
		FilterKind:           "member",
	}
}

func TestRetryFailedDelivery(t *testing.T)     { RetryFailedDelivery(t, fakeFixture()) }
func TestEditFormVariable(t *testing.T)        { EditFormVariable(t, fakeFixture()) }
func TestEditTemplateWithPreview(t *testing.T) { EditTemplateWithPreview(t, fakeFixture()) }
func TestFilterEvents(t *testing.T)            { FilterEvents(t, fakeFixture()) }

func TestNarrowTerminal(t *testing.T) {
	fx := fakeFixture()
	fx.Width, fx.Height = 80, 24
	FilterEvents(t, fx)
}
