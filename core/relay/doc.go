// Package relay is one running auditrelay, as serve, the console, the
// demo and bench run it: it opens the store the configuration names
// (SQLite in the data directory, or PostgreSQL), takes the data
// directory's lock, loads the integrations, builds the engine with its
// sources (webhook receiver, LaunchDarkly poller, the demo's generator)
// and opens the listeners — the public one (receiver, /healthz, the
// write-probing /readyz, /metrics) and the admin API (core/admin) — then
// runs them until its context ends and shuts down in order: stop taking
// entries, drain the engine, close the store.
//
// It also owns what sits around a runtime: the logger (log.repeat_window,
// core/lograte), the demo's sinks and configuration, schema migrations,
// and Attach, through which the CLI works on an instance: its admin API
// when one runs, else the data directory itself.
//
// Every address the relay listens on is registered with the engine, so
// that no subscription can point deliveries at the relay itself; that
// includes the console's SSH listener, which the commands start (core
// does not import the console) and register with SetSSHListener.
package relay
