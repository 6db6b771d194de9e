package wake

import (
	"sync"
	"testing"
)

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestBroadcastClosesWhatWaitHandedOut(t *testing.T) {
	var s Signal
	a, b := s.Wait(), s.Wait()
	if a != b {
		t.Errorf("two Waits before a Broadcast returned different channels")
	}
	if closed(a) {
		t.Fatal("Wait's channel is closed before any Broadcast")
	}
	s.Broadcast()
	if !closed(a) {
		t.Fatal("Wait's channel is open after Broadcast")
	}
	c := s.Wait()
	if closed(c) {
		t.Error("Wait after a Broadcast returned a closed channel, want a new open one")
	}
	s.Broadcast()
	if !closed(c) {
		t.Error("the second Broadcast left the second Wait's channel open")
	}
}

func TestBroadcastWithNoWaiter(t *testing.T) {
	var s Signal
	s.Broadcast()
	s.Broadcast()
	if closed(s.Wait()) {
		t.Error("Wait after Broadcasts with no waiter returned a closed channel, want an open one")
	}
}

// TestConcurrent wakes many waiters from many broadcasters; run with -race.
// Each waiter takes its channel before saying it is ready, so a broadcast
// after every waiter is ready must wake them all.
func TestConcurrent(t *testing.T) {
	const waiters, broadcasters = 50, 5
	var s Signal
	var ready, woken sync.WaitGroup
	ready.Add(waiters)
	for range waiters {
		woken.Go(func() {
			ch := s.Wait()
			ready.Done()
			<-ch
		})
	}
	ready.Wait()
	var sent sync.WaitGroup
	for range broadcasters {
		sent.Go(func() {
			s.Broadcast()
			s.Wait()
		})
	}
	sent.Wait()
	woken.Wait()
}
