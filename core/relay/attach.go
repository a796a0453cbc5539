package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/auditrelay/auditrelay/core/admin"
	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/core/source"
	"github.com/auditrelay/auditrelay/core/store"
)

// probeTimeout bounds the check whether an instance answers on the admin
// address its data directory records.
const probeTimeout = 3 * time.Second

// Instance is an auditrelay instance the CLI works on: a running one
// through its admin API, or, when none answers, an engine of the CLI's own
// on the data directory (without listeners, so it runs no deliveries and
// leaves the data directory's lock alone).
type Instance struct {
	ops    operations
	rt     *Relay // when the CLI opened the store
	remote bool
	actor  string // who the instance records for an action
	where  string
}

// operations are what the CLI does with an instance; the admin client and
// the engine both have them.
type operations interface {
	Deliveries(ctx context.Context, q api.DeliveryQuery) ([]api.DeliveryView, error)
	Delivery(ctx context.Context, id string) (api.DeliveryDetail, error)
	Retry(ctx context.Context, actor, id string) error
	RetryAll(ctx context.Context, actor, subscription string) (int, error)
	Actions(ctx context.Context, since time.Time, limit int) ([]api.Action, error)
	Test(ctx context.Context, actor string, p api.TestParams) (api.TestResult, error)
	SetPaused(ctx context.Context, actor, subscription string, paused bool) error
	Resend(ctx context.Context, actor string, p api.ResendParams) (api.ResendResult, error)
	source.Ingester
}

// AttachOptions say how to reach an instance.
type AttachOptions struct {
	// AdminURL is --admin-url; "" means the address recorded in the data
	// directory.
	AdminURL string
	// Create allows opening a data directory that holds no database yet
	// (replay stores into it); otherwise one is required.
	Create bool
	// User is who is at the keyboard ($USER), for the actions recorded.
	User string
}

// Attach reaches the instance that owns cfg's data directory: its admin
// API when it answers, else the store itself. An admin API that answers
// and refuses (a wrong token) is an error, not a reason to open the store
// under a running instance.
func Attach(ctx context.Context, cfg config.Config, o AttachOptions) (*Instance, error) {
	if c, err := admin.NewClient(o.AdminURL, cfg.DataDir, cfg.Admin.Token.Value); err == nil {
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		_, err := c.Subscriptions(pctx)
		cancel()
		if err == nil {
			// The admin API records "api:" + the actor it is told.
			return &Instance{ops: c, remote: true, actor: o.User, where: "the instance at " + c.Base()}, nil
		}
		var ne net.Error
		var oe *net.OpError
		if !errors.As(err, &oe) && !errors.As(err, &ne) {
			return nil, err // it answered, and refused
		}
	}
	if IsSQLite(cfg.Store) && !o.Create {
		if _, err := os.Stat(StoreName(cfg)); err != nil {
			return nil, fmt.Errorf("no running instance answered and %s holds no database", cfg.DataDir)
		}
	}
	cfg.Admin.Listen = ""
	rt, err := Open(ctx, cfg, slog.New(slog.DiscardHandler), Options{NoListeners: true, NoSend: true})
	if err != nil {
		return nil, err
	}
	actor := "cli"
	if o.User != "" {
		actor += ":" + o.User
	}
	return &Instance{ops: rt.eng, rt: rt, actor: actor, where: StoreName(cfg)}, nil
}

// Remote reports whether the instance is a running one, reached through
// its admin API.
func (in *Instance) Remote() bool { return in.remote }

// Where names the instance for messages: the admin API's URL, or the
// store.
func (in *Instance) Where() string { return in.where }

// Close closes the store when the CLI opened it.
func (in *Instance) Close() {
	if in.rt != nil {
		in.rt.Close()
	}
}

// Deliveries lists deliveries as engine.Deliveries does.
func (in *Instance) Deliveries(ctx context.Context, q api.DeliveryQuery) ([]api.DeliveryView, error) {
	return in.ops.Deliveries(ctx, q)
}

// Delivery returns one delivery with its attempts, masked as everywhere.
func (in *Instance) Delivery(ctx context.Context, id string) (api.DeliveryDetail, error) {
	return in.ops.Delivery(ctx, id)
}

// Retry makes a failed delivery due again.
func (in *Instance) Retry(ctx context.Context, id string) error {
	return in.ops.Retry(ctx, in.actor, id)
}

// RetryAll makes every failed delivery of subscription due again.
func (in *Instance) RetryAll(ctx context.Context, subscription string) (int, error) {
	return in.ops.RetryAll(ctx, in.actor, subscription)
}

// Resume resumes (and re-enables) a subscription.
func (in *Instance) Resume(ctx context.Context, subscription string) error {
	return in.ops.SetPaused(ctx, in.actor, subscription, false)
}

// Resend sends stored entries again (see api.API).
func (in *Instance) Resend(ctx context.Context, p api.ResendParams) (api.ResendResult, error) {
	return in.ops.Resend(ctx, in.actor, p)
}

// Test sends a connection test from the instance.
func (in *Instance) Test(ctx context.Context, p api.TestParams) (api.TestResult, error) {
	return in.ops.Test(ctx, in.actor, p)
}

// Ingest stores entries as the receiver does; an Instance is the
// source.Ingester of replay.
func (in *Instance) Ingest(ctx context.Context, items []source.Item, cursor *store.Cursor) ([]source.Result, error) {
	return in.ops.Ingest(ctx, items, cursor)
}
