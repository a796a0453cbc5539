// Package engine wires auditrelay together: sources hand it audit-log
// entries; it decides each subscription's policy, stores the entry and its
// deliveries durably, renders each delivery with the subscription's
// integration when it is due, sends it and records the attempt. It exposes
// API to the console and the admin HTTP API and knows nothing of either.
package engine
