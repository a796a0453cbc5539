// Package show is how the operator commands print for people: delivery
// lists and details (`auditrelay deliveries`) and the replay's progress
// line. The commands choose what to show, and print JSON themselves for
// --json; the values come from the engine's views, already masked.
package show
