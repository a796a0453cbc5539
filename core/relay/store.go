package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/store"
	"github.com/auditrelay/auditrelay/core/store/postgres"
	"github.com/auditrelay/auditrelay/core/store/sqlite"
)

// dbFile is the SQLite database's name in the data directory.
const dbFile = "auditrelay.db"

// IsSQLite reports whether the store setting names the embedded store:
// empty (the data directory) or sqlite:PATH.
func IsSQLite(setting string) bool {
	return setting == "" || strings.HasPrefix(setting, "sqlite:")
}

// StoreName says which store cfg names, for messages: the SQLite file, or
// the PostgreSQL URL without its password.
func StoreName(cfg config.Config) string {
	if IsSQLite(cfg.Store) {
		if p := strings.TrimPrefix(cfg.Store, "sqlite:"); p != "" {
			return p
		}
		return filepath.Join(cfg.DataDir, dbFile)
	}
	return RedactURL(cfg.Store)
}

// sqlitePath is the SQLite database cfg names, creating the data
// directory when the database goes there.
func sqlitePath(cfg config.Config) (string, error) {
	if p := strings.TrimPrefix(cfg.Store, "sqlite:"); p != "" {
		return p, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return "", dataDirError(cfg.DataDir, err)
	}
	return filepath.Join(cfg.DataDir, dbFile), nil
}

// openStore opens the configured store: SQLite in the data directory by
// default, else PostgreSQL, migrating its schema unless the URL says
// auditrelay_migrate=manual.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (store.Store, error) {
	if IsSQLite(cfg.Store) {
		path, err := sqlitePath(cfg)
		if err != nil {
			return nil, err
		}
		st, err := sqlite.Open(ctx, sqlite.Options{
			Path: path, Instance: cfg.Instance, Synchronous: cfg.SQLite.Synchronous,
			WALMaxFrames: int(cfg.SQLite.WALMax / 4096), // SQLite's default page size, which the store keeps
			Logger:       log.With("component", "store"),
		})
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", path, err)
		}
		return st, nil
	}
	st, err := postgres.Open(ctx, postgres.Options{
		URL:      cfg.Store,
		Instance: cfg.Instance,
		Logger:   log.With("component", "store"),
	})
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", RedactURL(cfg.Store), err)
	}
	return st, nil
}

// Migrate brings the schema of the store cfg names up to this binary's
// version and says what it did. SQLite migrates whenever it is opened;
// PostgreSQL holds an advisory lock while it works.
func Migrate(ctx context.Context, cfg config.Config) (string, error) {
	if IsSQLite(cfg.Store) {
		path, err := sqlitePath(cfg)
		if err != nil {
			return "", err
		}
		st, err := sqlite.Open(ctx, sqlite.Options{Path: path, Instance: cfg.Instance})
		if err != nil {
			return "", fmt.Errorf("opening %s: %w", path, err)
		}
		if err := st.Close(); err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		return path + ": schema up to date", nil
	}
	where := RedactURL(cfg.Store)
	schema, applied, err := postgres.Migrate(ctx, postgres.Options{URL: cfg.Store, Instance: cfg.Instance})
	switch {
	case errors.Is(err, store.ErrSchemaTooNew):
		return "", fmt.Errorf("%s: %w (upgrade auditrelay instead)", where, err)
	case err != nil:
		return "", fmt.Errorf("%s: %w", where, err)
	case len(applied) == 0:
		return fmt.Sprintf("%s, schema %s: up to date at version %d", where, schema, postgres.LatestVersion()), nil
	}
	parts := make([]string, len(applied))
	for i, v := range applied {
		parts[i] = fmt.Sprintf("%04d", v)
	}
	return fmt.Sprintf("%s, schema %s: applied migration %s; now at version %d", where, schema, strings.Join(parts, ", "), postgres.LatestVersion()), nil
}

// CheckSchema reports, without changing anything, whether the PostgreSQL
// store cfg names is at this binary's version: current is false when a
// migration is needed, and a schema newer than the binary is an error
// (store.ErrSchemaTooNew). SQLite stores have nothing to check.
func CheckSchema(ctx context.Context, cfg config.Config) (report string, current bool, err error) {
	if IsSQLite(cfg.Store) {
		return "", false, errors.New("SQLite migrates whenever it is opened; only PostgreSQL stores can be checked")
	}
	where := RedactURL(cfg.Store)
	schema, db, bin, err := postgres.Status(ctx, postgres.Options{URL: cfg.Store, Instance: cfg.Instance})
	switch {
	case err != nil:
		return "", false, fmt.Errorf("%s: %w", where, err)
	case db > bin:
		return "", false, fmt.Errorf("%s, schema %s: version %d is newer than this binary's %d: %w", where, schema, db, bin, store.ErrSchemaTooNew)
	case db < bin:
		return fmt.Sprintf("%s, schema %s: version %d, this binary needs %d: run auditrelay migrate", where, schema, db, bin), false, nil
	}
	return fmt.Sprintf("%s, schema %s: up to date at version %d", where, schema, db), true, nil
}

// RedactURL hides the password of a store URL for messages and logs.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if err != nil {
			return "the store URL"
		}
		return raw
	}
	return u.Redacted()
}
