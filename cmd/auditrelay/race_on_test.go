//go:build race

package main

// raceEnabled: the test binary runs with the race detector, which
// multiplies memory use (bounds on RSS scale with it).
const raceEnabled = true
