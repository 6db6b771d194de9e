//go:build !linux

package boltstore

// dropResident does nothing where madvise is not at hand: the pages stay
// resident until the kernel needs them.
func dropResident(addr uintptr, size int64) error { return nil }
