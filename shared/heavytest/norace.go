//go:build !race

package heavytest

// raceEnabled says the race detector is on.
const raceEnabled = false
