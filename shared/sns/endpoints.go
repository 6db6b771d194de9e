package sns

import (
	"context"
	"sync"
)

// EndpointKey names the endpoint a push needs: the platform application
// ARN it belongs to (so moving to a new application, or from APNS_SANDBOX
// to APNS, creates new endpoints), the device token, and the owner written
// into the endpoint's CustomUserData (so an endpoint created for one user's
// device is not handed to another's, whose delivery failures would then be
// reported against the wrong device).
type EndpointKey struct {
	Application string
	Token       string
	Owner       EndpointOwner
}

// EndpointStore remembers the SNS platform endpoint created for a device
// token and owner, so a push does not call CreatePlatformEndpoint every
// time. A missing endpoint is ok == false with a nil error.
// Implementations must be safe for concurrent use.
//
// The store is a cache in front of notify.Device.Endpoint, which is what
// makes an endpoint "created once" across processes: a device that carries
// an endpoint of the application is published to without the store.
type EndpointStore interface {
	GetEndpoint(ctx context.Context, key EndpointKey) (arn string, ok bool, err error)
	PutEndpoint(ctx context.Context, key EndpointKey, arn string) error
}

// MemoryEndpoints is an EndpointStore in memory: the default of NewPush,
// right for tests and for one process (the local mode). Across processes
// (Lambda) each one creates its endpoints again, which SNS answers with the
// same ARNs, so it stays correct, only slower. The zero value is ready.
//
// SNS keeps one endpoint per application and token, so MemoryEndpoints
// does too: it remembers the endpoint of an application and token with the
// owner it was last created or taken over for, and a lookup for another
// owner misses, so the sender takes the endpoint over with the right
// owner instead of reusing it under the old one.
type MemoryEndpoints struct {
	mu  sync.RWMutex
	arn map[[2]string]memoryEndpoint
}

type memoryEndpoint struct {
	owner EndpointOwner
	arn   string
}

// GetEndpoint implements EndpointStore.
func (s *MemoryEndpoints) GetEndpoint(_ context.Context, key EndpointKey) (string, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.arn[[2]string{key.Application, key.Token}]
	if !ok || e.owner != key.Owner {
		return "", false, nil
	}
	return e.arn, true, nil
}

// PutEndpoint implements EndpointStore.
func (s *MemoryEndpoints) PutEndpoint(_ context.Context, key EndpointKey, arn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.arn == nil {
		s.arn = map[[2]string]memoryEndpoint{}
	}
	s.arn[[2]string{key.Application, key.Token}] = memoryEndpoint{owner: key.Owner, arn: arn}
	return nil
}
