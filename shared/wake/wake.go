// Package wake lets one goroutine wake every goroutine waiting for a change,
// without missing a change made while it looked: the embedded queue wakes its
// receivers on a send, the embedded scheduler wakes its loop on a put.
//
// A waiter takes Wait's channel before it looks at the state it waits on,
// then selects on it: a Broadcast after the look closes that channel, so a
// change between the look and the select is not lost.
package wake

import "sync"

// Signal broadcasts a wake-up to every current waiter at once. The zero
// value is ready to use; a Signal must not be copied after first use.
type Signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// Wait returns a channel that the next Broadcast closes. Every caller
// until that Broadcast gets the same channel.
func (s *Signal) Wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// Broadcast wakes every waiter by closing the channel Wait handed out; a
// later Wait gets a new one. With no waiter it does nothing.
func (s *Signal) Broadcast() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}
