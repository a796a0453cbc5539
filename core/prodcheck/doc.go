// Package prodcheck predicts where LaunchDarkly's own renderer would send
// different bytes than auditrelay does.
//
// auditrelay renders with core/render, which matches handlebars.js (the
// framework's test renderer) byte for byte. LaunchDarkly's production
// renderer is Go Handlebars: the framework's helpers/index.js says so
// where it explains equalWithElse. github.com/aymerick/raymond is that
// library, so rendering a template with raymond, with the framework's
// helpers registered, is the best available model of what LaunchDarkly
// itself sends. It differs from handlebars.js on standalone lines (a
// standalone block tag right after another keeps its indentation and
// newline), prints arrays without commas and objects as map[…], treats {}
// as false, looks names up in parent contexts, and iterates objects in
// Go's random map order.
//
// Check renders each template of an integration with both for sample
// contexts and reports each difference with the template line it comes
// from: whitespace differences by comparing what each parser's whitespace
// control left of every text run, the others by rendering raymond again
// with auditrelay's whitespace and finding, in core/render's trace, the
// statement that wrote the first differing byte.
//
// raymond is used here only, never for delivery, and only for templates
// core/render has parsed: raymond's parser leaks a goroutine on every
// template it fails to parse (its lexer blocks on an unbuffered channel),
// so it must never see what an editor sends on each keystroke. Its helper
// registry is process-global and panics on a second registration, so the
// framework's helpers are registered once per process (sync.Once); they
// are pure functions, so sharing them is harmless.
package prodcheck
