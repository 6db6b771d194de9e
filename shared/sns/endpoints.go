package sns

import (
	"context"
	"sync"
)

// EndpointStore remembers the SNS platform endpoint created for a device
// token, so a push does not call CreatePlatformEndpoint every time.
// application is the platform application ARN the endpoint belongs to (so
// moving to a new application, or from APNS_SANDBOX to APNS, creates new
// endpoints). A missing endpoint is ok == false with a nil error.
// Implementations must be safe for concurrent use.
type EndpointStore interface {
	GetEndpoint(ctx context.Context, application, token string) (arn string, ok bool, err error)
	PutEndpoint(ctx context.Context, application, token, arn string) error
}

// MemoryEndpoints is an EndpointStore in memory: the default of NewPush,
// right for tests and for one process (the local mode). Across processes
// (Lambda) each one creates its endpoints again, which SNS answers with the
// same ARNs, so it stays correct, only slower. The zero value is ready.
type MemoryEndpoints struct {
	mu  sync.RWMutex
	arn map[[2]string]string
}

// GetEndpoint implements EndpointStore.
func (s *MemoryEndpoints) GetEndpoint(_ context.Context, application, token string) (string, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	arn, ok := s.arn[[2]string{application, token}]
	return arn, ok, nil
}

// PutEndpoint implements EndpointStore.
func (s *MemoryEndpoints) PutEndpoint(_ context.Context, application, token, arn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.arn == nil {
		s.arn = map[[2]string]string{}
	}
	s.arn[[2]string{application, token}] = arn
	return nil
}
