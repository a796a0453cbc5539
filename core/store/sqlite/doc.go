// Package sqlite is the embedded store.Store: one SQLite file in WAL mode
// (modernc.org/sqlite, pure Go), used by a single auditrelay process.
//
// It owns the SQL, the connections, the group-committing writer, the
// checkpointer and the integer encoding of times (time.go); the checks,
// the claim and rate-limit arithmetic, the state rules, the retention
// passes and the column order of each table shape are store's, shared
// with the PostgreSQL backend.
//
// # Connections
//
// One connection writes; it belongs to a single writer goroutine. A
// separate pool of read-only connections (mode=ro) serves queries, so the
// console and the admin API never wait behind writes: in WAL mode readers
// see the last commit while the writer works.
//
// # Group commit
//
// Every write method (Ingest, Claim, Finish, RescueExpired, Retry, Prune
// batches, ...) becomes a request on a channel. The writer takes one
// request, drains whatever else is queued (up to Options.MaxBatch) and, while
// callers are inside a write method without having queued yet, waits for
// them up to Options.GroupCommitWindow. It then runs the group in one
// BEGIN IMMEDIATE … COMMIT, publishes the group's changes to watchers and
// answers every caller. A failing request must roll back alone: the group
// runs first without savepoints (which would copy every page a request
// touches into a sub-journal) and, only if a request fails, is rolled back
// and run again with a savepoint per request. A group costs one WAL commit (one fsync
// with synchronous=FULL) however many requests it holds; a lone caller is
// never delayed by the window. A group made only of claims and leadership
// renewals commits without its own fsync even under FULL: losing it to a
// power cut only hands a delivery or a lease out again, and the next durable
// commit syncs it anyway.
//
// # Failing writes and other processes
//
// A write whose context ends before the writer started it — while queued,
// or while BEGIN IMMEDIATE waits (up to Options.BusyTimeout) for a lock
// another process holds — is dropped and never runs; once started it runs
// to its commit and the caller waits for that. So a write that returns
// its context's error was not committed, and a caller's deadline bounds
// its wait for another process's lock. After SQLITE_FULL, SQLITE_IOERR
// and the like SQLite may roll the whole transaction back by itself; a
// rollback hook on the writer's connection tells the writer, which then
// fails the group without a second ROLLBACK. ProbeWrite (for /readyz)
// inserts and deletes a 16 KiB row in one transaction, and keeps failing
// for up to 10 s after a write group failed unless a write commits since
// (a probe can fit where a failed write left room). Errors that concern
// the file (cannot open, read-only, full, I/O) are completed with what is
// wrong with its directory: a read-only file system, no write permission,
// no space left.
//
// # Checkpoints
//
// The writer's connection does not checkpoint (wal_autocheckpoint=0): a
// checkpointer goroutine with its own connection copies the WAL into the
// database file (PASSIVE) 25 ms after commits, in parallel with the
// writer, which therefore never waits for that copy or its fsyncs. Because
// SQLite restarts the log only when a checkpoint has copied all of it, the
// writer finishes the job itself between two groups once the log passes
// Options.WALMaxFrames (default 65,536 frames, 256 MiB with 4 KiB pages);
// that bounds the -wal file, and journal_size_limit shrinks it back to the
// bound when the log starts over. The start-over costs the writer two
// fsyncs (10-50 ms on a busy disk), so a larger bound means rarer pauses.
//
// # Durability
//
// A write returns after its group committed. With synchronous=NORMAL (the
// default) a commit survives a crash or kill -9 of the process; a power loss
// may roll back the last commits but never corrupts the file. With
// synchronous=FULL the WAL is synced at every commit and a commit also
// survives power loss.
//
// # Schema
//
// The schema lives in migrations/NNNN_name.sql, embedded and applied at Open,
// each in its own transaction together with its schema_migrations row; Open
// refuses a database whose version is newer than the binary's
// (store.ErrSchemaTooNew). Times are INTEGER unix milliseconds and durations
// INTEGER microseconds, converted only in time.go. Deliveries carry a rowid
// (seq) that is the claim tie-breaker after next_attempt_ms, so the claim
// walks the (subscription, state, next_attempt_ms) index without sorting.
package sqlite
