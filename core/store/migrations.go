package store

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one schema version: a NNNN_name.sql file. Both backends
// number their migrations the same way, so a version means the same schema
// whatever the database.
type Migration struct {
	Version int
	Name    string // the file name, for errors and the schema_migrations row
	SQL     string
}

// LoadMigrations reads NNNN_name.sql files from dir in fsys and checks
// that their versions run 1, 2, 3... without gaps or repeats.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var ms []Migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql with NNNN >= 1", name)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", name, err)
		}
		ms = append(ms, Migration{Version: v, Name: base, SQL: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d (versions must run 1, 2, 3... without gaps)", m.Name, i+1)
		}
	}
	return ms, nil
}

// CheckVersion refuses a database at schema version v when the binary's
// migrations end at latest: ErrSchemaTooNew when v is newer.
func CheckVersion(v, latest int) error {
	if v > latest {
		return fmt.Errorf("%w: database is at version %d, this binary knows up to %d", ErrSchemaTooNew, v, latest)
	}
	return nil
}
