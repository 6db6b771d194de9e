package boltstore

import "syscall"

// dropResident tells the kernel that the mapped pages at [addr, addr+size)
// are not needed (madvise MADV_DONTNEED): for a shared file mapping, they
// leave the process's resident set and stay in the page cache.
func dropResident(addr uintptr, size int64) error {
	if addr == 0 || size <= 0 {
		return nil
	}
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, addr, uintptr(size), syscall.MADV_DONTNEED); errno != 0 {
		return errno
	}
	return nil
}
