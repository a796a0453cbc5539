// Package admin is auditrelay's admin HTTP API, both ends of it: the
// handler a running instance serves on admin.listen and the client with
// which `auditrelay deliveries` and `auditrelay replay` reach it.
//
// It also owns how the CLI finds an instance: the instance writes the
// address it bound (admin.addr) and, unless admin.token is set, a token it
// generated (admin.token, mode 0600) into its data directory, and the
// client reads them there. Every request needs "Authorization: Bearer
// <token>", compared in constant time; the listener is loopback by
// default.
//
// The API serves what the engine returns (core/engine/api views, already
// masked) and adds nothing of its own, so the CLI shows exactly what the
// console shows.
package admin
