package boltstore

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/shared/notify"
	bolt "go.etcd.io/bbolt"
)

// bucketConsoleSettings keeps what a workspace's admins set in the console.
const bucketConsoleSettings = "consolesettings" // ws → JSON notify.ConsoleSettings

// GetConsoleSettings implements notify.Store.
func (s *Store) GetConsoleSettings(ctx context.Context, workspaceID string) (notify.ConsoleSettings, error) {
	var cs notify.ConsoleSettings
	err := s.db.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(bucket(tx, bucketConsoleSettings), key(workspaceID), &cs)
		if err != nil {
			return err
		}
		if !ok {
			return notify.NotFound("console settings", workspaceID)
		}
		return nil
	})
	if err != nil {
		return notify.ConsoleSettings{}, fmt.Errorf("get console settings of %s: %w", workspaceID, err)
	}
	cs.WorkspaceID = workspaceID
	return cs, nil
}

// PutConsoleSettings implements notify.Store.
func (s *Store) PutConsoleSettings(ctx context.Context, cs notify.ConsoleSettings) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		return putJSON(bucket(tx, bucketConsoleSettings), key(cs.WorkspaceID), cs)
	})
	if err != nil {
		return fmt.Errorf("put console settings of %s: %w", cs.WorkspaceID, err)
	}
	return nil
}
