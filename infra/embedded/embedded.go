// Package embedded opens Herald's embedded adapters in a data directory
// (one bbolt store, the bbolt queues and scheduler, files for uploads): the
// ports of the local mode, handed to package wiring by the local server
// and by the invoke tool's -backend embedded. It lives under infra/
// because no Lambda may link an embedded adapter.
package embedded

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/blobfs"
	"github.com/heraldhq/herald/shared/boltqueue"
	"github.com/heraldhq/herald/shared/boltscheduler"
	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/ingest"
	"github.com/heraldhq/herald/shared/wiring"
)

// Backend is the data directory's adapters, open.
type Backend struct {
	Store *boltstore.Store
	// Dispatch, Audience, Ingest and Repairs are the queues the functions'
	// SQS queues stand for: dispatch messages, audience walk steps, stored
	// spreadsheets (S3's ObjectCreated) and schedule repairs.
	Dispatch, Audience, Ingest, Repairs *boltqueue.Queue
	Blobs                               *blobfs.Store
	// Scheduler stands in for EventBridge Scheduler: it fires campaigns in
	// process through the Fire given to Open, once its Run is called.
	Scheduler *boltscheduler.Scheduler
	// Secret signs unsubscribe links, WhatsApp quick replies and local
	// upload URLs: HERALD_UNSUBSCRIBE_SECRET, or one the data directory
	// keeps (made on first start), so that make run and make invoke sign
	// alike and links survive a restart.
	Secret string

	closers []func() error
}

// Open opens (creating it when new) the data directory cfg.DataDir. fire
// runs a campaign's scheduled time when the scheduler's Run is called; the
// invoke tool never calls it. Whatever was in flight in a queue is made
// visible again: bbolt locks its files, so no consumer from before is
// alive, and dispatch's dedupe keeps anyone from getting a message twice.
func Open(cfg config.Config, log *slog.Logger, fire func(context.Context, boltscheduler.Firing) error) (*Backend, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	b := &Backend{}
	if err := b.open(cfg, log, fire); err != nil {
		b.Close() // what opened before the failure
		return nil, err
	}
	return b, nil
}

// open opens the adapters one by one, keeping each one's Close.
func (b *Backend) open(cfg config.Config, log *slog.Logger, fire func(context.Context, boltscheduler.Firing) error) (err error) {
	var storeOpts []boltstore.Option
	if !cfg.Fsync {
		storeOpts = append(storeOpts, boltstore.WithNoSync())
	}
	if b.Store, err = boltstore.Open(filepath.Join(cfg.DataDir, "herald.db"), storeOpts...); err != nil {
		return fmt.Errorf("open store (is another Herald running on %s?): %w", cfg.DataDir, err)
	}
	b.closers = append(b.closers, b.Store.Close)
	queues := []struct {
		q    **boltqueue.Queue
		file string
		what string
	}{
		{&b.Dispatch, "queue.db", "dispatch queue"},
		{&b.Audience, "audience.db", "audience queue"},
		{&b.Ingest, "ingest.db", "ingest queue"},
		{&b.Repairs, "repairs.db", "schedule repair queue"},
	}
	for _, q := range queues {
		var resumed int
		if *q.q, resumed, err = openQueue(cfg, q.file, q.what); err != nil {
			return err
		}
		b.closers = append(b.closers, (*q.q).Close)
		if q.q == &b.Dispatch && resumed > 0 {
			log.Info("resuming unfinished sends", "messages", resumed)
		}
	}
	if _, err := b.Dispatch.DeadLetter().RequeueInFlight(); err != nil {
		return fmt.Errorf("requeue in-flight dead letters: %w", err)
	}
	if b.Blobs, err = blobfs.Open(filepath.Join(cfg.DataDir, "blobs")); err != nil {
		return fmt.Errorf("open blobs: %w", err)
	}
	if b.Scheduler, err = boltscheduler.Open(filepath.Join(cfg.DataDir, "scheduler.db"), boltscheduler.Options{
		Grace: cfg.ScheduleGrace, NoSync: !cfg.Fsync, Log: log, Fire: fire,
	}); err != nil {
		return fmt.Errorf("open scheduler: %w", err)
	}
	b.closers = append(b.closers, b.Scheduler.Close)
	if b.Secret = cfg.UnsubscribeSecret; b.Secret == "" {
		if b.Secret, err = keptSecret(filepath.Join(cfg.DataDir, "unsubscribe-secret")); err != nil {
			return err
		}
	}
	return nil
}

// keptSecret reads a secret kept in the data dir, making it on first use.
func keptSecret(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	secret := apikey.New()
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("save %s: %w", filepath.Base(path), err)
	}
	return secret, nil
}

// openQueue opens one of the data directory's queues, every one with the
// same visibility and receive limit, and makes what it had in flight
// visible again; resumed says how many messages that was.
func openQueue(cfg config.Config, file, what string) (q *boltqueue.Queue, resumed int, err error) {
	q, err = boltqueue.Open(filepath.Join(cfg.DataDir, file), boltqueue.Options{
		Visibility: cfg.VisibilityTime, MaxReceives: cfg.MaxReceives, NoSync: !cfg.Fsync,
	})
	if err != nil {
		return nil, 0, fmt.Errorf("open %s: %w", what, err)
	}
	if resumed, err = q.RequeueInFlight(); err != nil {
		q.Close()
		return nil, 0, fmt.Errorf("requeue in-flight messages of the %s: %w", what, err)
	}
	return q, resumed, nil
}

// Ports are the backend as wiring's ports.
func (b *Backend) Ports() wiring.Ports {
	return wiring.Ports{Store: b.Store, Dispatch: b.Dispatch, Audience: b.Audience, Scheduler: b.Scheduler, Repairs: b.Repairs,
		Blobs: b.Blobs, Outbox: b.Store}
}

// Uploads go through the local signed route, reached at publicURL; a
// stored file is a message on the ingest queue, as S3's ObjectCreated
// starts the ingest function.
func (b *Backend) Uploads(publicURL string) *httpapi.Uploads {
	received := func(ctx context.Context, key string) error {
		body, err := json.Marshal(ingest.Event{Key: key})
		if err != nil {
			return err
		}
		return b.Ingest.Send(ctx, [][]byte{body})
	}
	return &httpapi.Uploads{Blobs: b.Blobs, Received: received, URLSecret: []byte("upload-url\n" + b.Secret), PublicURL: publicURL}
}

// Close closes what Open opened, last first.
func (b *Backend) Close() error {
	var errs []error
	for i := len(b.closers) - 1; i >= 0; i-- {
		errs = append(errs, b.closers[i]())
	}
	b.closers = nil
	return errors.Join(errs...)
}
