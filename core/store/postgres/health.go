package postgres

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/auditrelay/auditrelay/core/store"
)

// ProbeWrite commits a write that leaves nothing behind: in one
// transaction it inserts a row of store.ProbePad random bytes (so that
// TOAST cannot compress it to nothing) and deletes it. It fails
// while the database refuses writes (a read-only standby after a
// failover, default_transaction_read_only, a full disk when the table
// must grow) or another session's lock holds it until ctx ends; see
// store.Store.
func (s *Store) ProbeWrite(ctx context.Context) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	pad := make([]byte, store.ProbePad)
	_, _ = rand.Read(pad) // never fails; the content does not matter
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO write_probe (instance, probed_at, pad) VALUES ($1, $2, $3) RETURNING id`,
			s.instance, s.now(), pad).Scan(&id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM write_probe WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("write probe: %w", err)
	}
	return nil
}
