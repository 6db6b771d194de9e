package main

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/infra/harness"
	"github.com/heraldhq/herald/shared/apikey"
)

// TestKillMidSendLosesNothingAndSendsNothingTwice kills the local server
// with SIGKILL in the middle of a send, starts it again on the same data,
// and checks that every recipient ends with exactly one delivery.
func TestKillMidSendLosesNothingAndSendsNothingTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server; skipped with -short")
	}
	const users = 20000
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := harness.Build(ctx, root, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data, key := t.TempDir(), apikey.New()
	addr, err := harness.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	// One worker and small batches make the send slow enough to kill midway.
	slow := []string{"HERALD_WORKERS=1", "HERALD_SEND_CONCURRENCY=2"}
	p, err := harness.Start(ctx, bin, data, addr, key, slow...)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { p.Kill() }()
	if err := p.SeedUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	ids, err := p.SendLists(ctx, users)
	if err != nil {
		t.Fatal(err)
	}
	for {
		done, total, _, err := p.Progress(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		if done >= total/10 {
			if done == total {
				t.Fatalf("the send finished before the kill; make it slower")
			}
			t.Logf("killing with %d of %d done", done, total)
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.Kill()

	p, err = harness.Start(ctx, bin, data, addr, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.WaitCompleted(ctx, ids, 50*time.Millisecond); err != nil {
		t.Fatalf("%v\nlogs:\n%s", err, p.Logs())
	}
	if err := p.VerifyExactlyOnce(ctx, ids, users); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}
