// Package store defines auditrelay's durable queue: audit-log entries, one
// delivery per entry and subscription, the attempt log, subscription state,
// source cursors and operator actions.
//
// The interface is made of relay verbs, not tables, so that each backend
// (SQLite, the embedded default, and PostgreSQL for several instances) keeps
// its SQL and dialect to itself. Every backend passes the same contract
// suite in core/store/storetest; a behaviour described here and not tested
// there is a bug in the suite.
//
// # What this package owns
//
// Besides the contract (types, errors, the Store interface), everything
// about it that does not depend on the database, written once for both
// backends and unit-tested here: the checks of every call
// (ValidateIngest, ValidateFinish, the params' Validate methods); the claim
// arithmetic (ClaimPlan: MaxInFlight, the rate-limit Bucket, NextDue and
// Throttled); the rules a write applies (DueAt, RescueParams.Poisons,
// RetryParams.Selected, PoisonReason); retention as cut-offs and passes
// (PrunePlan, run over a backend's Pruner); the column order of each table
// shape (ScanDelivery, ScanEntrySummary, ScanAttempt, reading times and
// durations through a backend's Codec); the watchers' Hub; and migration
// loading. A backend keeps its SQL, its driver and how it makes a claim
// exact across callers (SQLite's single writer, PostgreSQL's advisory
// lock), and nothing else.
//
// # Durability
//
// Ingest returns only after the entries and their deliveries are committed,
// so a source may acknowledge an entry once Ingest returned without error.
// Finish, Retry, RescueExpired and the other writes likewise return after
// their commit. Claims and leadership renewals may be committed without a
// sync of their own: after a power cut one may be lost, which only hands the
// delivery or the lease out again. A write whose context ends while it waits
// may still commit; callers treat such an error as "unknown" (every write is
// safe to repeat: Ingest dedupes by entry ID, Finish is fenced).
//
// # Leases and fencing
//
// Delivery is at-least-once. Claim moves due Pending deliveries to InFlight,
// increments Attempts and stamps LeaseOwner and LeaseUntil. Attempts is the
// fencing token: an Outcome applies only while the delivery is still
// InFlight, owned by Outcome.Owner, at Outcome.Attempt; anything else is
// reported as Stale and changes nothing. A Finish after LeaseUntil but
// before anyone rescued the delivery still applies (the owner is unchanged).
//
// RescueExpired takes InFlight deliveries whose LeaseUntil is before now,
// logs a "worker-lost" attempt with the number of the lost attempt, and makes
// them Pending and due at once (the lease already served as the back-off).
// Attempts stays as it is: the lost attempt counts as made. Step stays as it
// is too: the retry schedule is the engine's business, which also decides,
// at the next claim, whether Attempts exhausted the delivery (it then
// finishes it as Failed without a request and with a nil Record).
//
// Lost counts expired leases in a row; any applied outcome and an operator's
// Retry reset it. A delivery whose attempt kills the process (or hangs it
// past the lease) would otherwise be rescued and attempted again after every
// restart, forever: once Lost reaches RescueParams.PoisonAfter, the rescue
// fails it instead, with PoisonReason, in the same statement that logs the
// lost attempt.
//
// # Claim order and limits
//
// Claim takes due deliveries (Pending, NextAttemptAt at or before now) of one
// subscription ordered by NextAttemptAt, then by ingest order (the order of
// entries and of their deliveries in Ingest calls). MaxInFlight counts the
// subscription's InFlight deliveries across every instance; the rate limit is
// a token bucket per subscription kept in the store (refilled by elapsed time
// × Rate, capped at Burst, starting full). Nothing is claimed while the
// subscription is paused or disabled.
//
// # Times
//
// Backends keep times at millisecond precision at least (SQLite keeps
// milliseconds, PostgreSQL microseconds) and durations at microsecond
// precision; returned times are in UTC. The zero time.Time means "not set"
// everywhere, and a zero Now field in a params struct means the store's clock.
//
// # Changes
//
// Watch is a hint channel for consoles and idle workers: after each commit
// the store sends one Change per kind of thing that commit changed. A Change
// lists in Subscriptions the subscriptions for which Claim may now return more
// than before (new due work, a freed MaxInFlight slot, a resumed or changed
// subscription). Correctness never depends on it: workers still sleep until
// ClaimResult.NextDue at most.
package store
