// Package postgres is the store.Store for several auditrelay instances
// sharing one PostgreSQL database (pgx v5, pgxpool). Every instance
// receives, claims and delivers; the database is the only coordination.
//
// It owns the SQL (one statement per write where it can), the pool, the
// advisory locks, LISTEN/NOTIFY and the poll fallback, and schema
// migration across instances; the checks, the claim and rate-limit
// arithmetic, the state rules, the retention passes and the column order
// of each table shape are store's, shared with the SQLite backend. Where a
// statement applies one of store's rules in SQL (the poison decision in
// RescueExpired), it says so.
//
// # Claims
//
// A claim is one UPDATE … FROM (SELECT … ORDER BY next_attempt_at, seq
// LIMIT n FOR UPDATE SKIP LOCKED) RETURNING, so concurrent claimers never
// take the same delivery and never wait on each other's rows. When the
// subscription has a MaxInFlight or a Rate, claims of that subscription
// are serialised by a transaction-scoped advisory lock keyed by schema and
// subscription: the in-flight count and the token bucket (kept in the
// subscription_state row) are read after the lock, so both limits hold
// across instances, not per instance. The claim transaction is pipelined
// into two round trips and commits with synchronous_commit off.
//
// # Fencing
//
// Attempts is the fencing token. Finish applies a whole batch of outcomes
// in one statement (unnest arrays) whose UPDATE repeats the claim's
// ownership (state inflight, lease_owner, attempts) in its WHERE; outcomes
// that match no row are reported stale. The attempt rows and a 410's
// subscription disable are written by the same statement. RescueExpired
// takes expired leases with SKIP LOCKED and repeats "still in flight, same
// owner and attempt, lease before now" in its UPDATE, so a Finish racing
// it wins or loses whole.
//
// # Leadership
//
// TryLead is a single INSERT … ON CONFLICT DO UPDATE … WHERE (same owner,
// or the lease expired) RETURNING on the leaders table: the primary key
// serialises contenders, and a lease held by another owner returns no row.
//
// # Changes
//
// Local watchers get a change right after its commit. Other instances get
// it through NOTIFY on a per-schema channel: debounced (the first change
// at once, then at most one round per Options.NotifyWindow), with a small
// JSON payload (kind, instance, subscriptions, up to 8 ids), sent after
// the commit. A dedicated connection LISTENs, pings when idle and
// reconnects with backoff; while it is down (or with auditrelay_listen=off,
// for PgBouncer transaction pooling) Watch polls the rows other instances
// wrote (entries.ingested_by, deliveries.updated_by) every PollInterval.
// Correctness never depends on notifications: workers also poll.
//
// # Schema and migrations
//
// migrations/NNNN_name.sql are embedded and share version numbers with the
// SQLite backend. Open (and Migrate, for `auditrelay migrate`) holds a
// session advisory lock per schema while it checks and applies them, each
// in its own transaction with its schema_migrations row, so instances
// booting together migrate once. A database newer than the binary is
// refused with store.ErrSchemaTooNew; with MigrateManual an older one is
// refused too (ErrSchemaOutdated) instead of being upgraded.
//
// # Durability
//
// Ingest is one statement: the entries (dedupe by primary key, ON CONFLICT
// DO NOTHING), their deliveries and the cursor commit together, with the
// server's synchronous_commit (on by default), before Ingest returns.
package postgres
