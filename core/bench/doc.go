// Package bench is the harness behind `auditrelay bench`: it runs real
// relays (core/relay) on loopback — HTTP receiver checking X-LD-Signature,
// durable store, policy, a template rendered per entry (the embedded
// integration/ directory; or the built-in webhook integration), HTTP
// delivery — drives them with realistic signed entries into a local
// endpoint that notes when each arrives, and reports what it measured:
// events/s and receive→delivered latency at full load and at a paced
// rate, the ratio to this machine's loopback HTTP ceiling, the same on a
// shared PostgreSQL store with several instances, and the memory of a
// relay holding a backlog of pending deliveries — that relay runs as a
// child process (`serve`, Options.RelayCommand), so that its memory is
// measured apart from the bench's own.
//
// Figures are measured here, never asserted in tests; the tests check
// only that a report holds together.
package bench
