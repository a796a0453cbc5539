// Package engine wires auditrelay together: sources hand it audit-log
// entries; it decides each subscription's policy, stores the entry and its
// deliveries durably, renders each delivery with the subscription's
// integration when it is due, sends it and records the attempt. It exposes
// API to the console and the admin HTTP API and knows nothing of either.
//
// The API and its views are declared in core/engine/api (re-exported
// here), so the console builds without the engine or its store. The views
// (views.go) are where secrets are masked, with core/mask, for every
// caller alike. Form and template edits go through the editor
// (editor.go), the only part of the engine that writes files.
package engine
