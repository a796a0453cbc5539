// Package demo provides what `auditrelay demo` needs to show the relay
// working without a LaunchDarkly account: a Generator of realistic
// audit-log entries (the REST/webhook representation, over a small demo
// account whose flags, projects, environments, members, segments and
// metrics change as entries are made) emitted at an adjustable rate, and
// local HTTP sinks to deliver to: a healthy one and a flaky one that
// fails, throttles, times out and answers 410 Gone on a path of its own.
//
// Everything is deterministic when seeded, so tests can rely on it, and
// everything that runs (Generator.Run, the sinks' servers) has an owner
// that stops it: a context or Close.
package demo
