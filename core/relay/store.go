package relay

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/store"
	"github.com/auditrelay/auditrelay/core/store/postgres"
)

// openPostgres opens the PostgreSQL store named by cfg.Store, migrating
// its schema unless the URL says auditrelay_migrate=manual.
func openPostgres(ctx context.Context, cfg config.Config, log *slog.Logger) (store.Store, error) {
	st, err := postgres.Open(ctx, postgres.Options{
		URL:      cfg.Store,
		Instance: cfg.Instance,
		Logger:   log.With("component", "store"),
	})
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", redactURL(cfg.Store), err)
	}
	return st, nil
}

// resetPostgres empties the benchmark's PostgreSQL database: it drops
// auditrelay's tables (the instances recreate them) and refuses a schema
// that holds anything else.
func resetPostgres(ctx context.Context, storeURL string) error {
	if _, err := postgres.Reset(ctx, postgres.Options{URL: storeURL}); err != nil {
		return fmt.Errorf("resetting %s: %w", redactURL(storeURL), err)
	}
	return nil
}

// redactURL hides the password of a store URL for messages and logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if err != nil {
			return "the store URL"
		}
		return raw
	}
	return u.Redacted()
}
