package main

import (
	"context"
	"fmt"
)

func benchAWS(ctx context.Context, users int) error {
	return fmt.Errorf("not wired yet")
}
