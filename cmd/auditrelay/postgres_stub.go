package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/store"
)

// openPostgres opens the PostgreSQL store.
func openPostgres(ctx context.Context, cfg config.Config, log *slog.Logger) (store.Store, error) {
	return nil, fmt.Errorf("store %q: the PostgreSQL backend is not built yet", cfg.Store)
}

// resetPostgres empties the benchmark's PostgreSQL database.
func resetPostgres(ctx context.Context, url string) error {
	return fmt.Errorf("store %q: the PostgreSQL backend is not built yet", url)
}
