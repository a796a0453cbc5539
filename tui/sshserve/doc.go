// Package sshserve serves auditrelay's console over SSH, so operators can
// watch and act on a headless relay from anywhere an SSH client runs.
//
// Every session gets its own console (tui.New) with its own Bubble Tea
// program, lipgloss renderer built from the client's terminal, window size,
// selection and filters, all on the one shared engine. The client decides
// its terminal's size and what it types, so both are bounded: the console
// clamps the size it draws at, and the program reads the terminal through
// ttyin, which bounds pastes and runs of input. The console talks to
// the engine only through its API (core/engine/api); its live feed never blocks the
// engine, and a client that stops reading stalls only its own session's
// renderer, which the server ends after Options.IdleTimeout.
//
// Sessions without a terminal (ssh host, ssh host tail [--json]) get one
// line per engine event instead, as tui.Tail prints them.
//
// Authentication is by public key only, against an authorized-keys file
// whose lines say who each key is and what it may do (see
// ParseAuthorizedKeys). The key's name is the actor recorded for every
// action taken in its console; a viewer's console refuses actions. The
// file is re-read when it changes: a removed key can no longer connect,
// and its open sessions end.
package sshserve
