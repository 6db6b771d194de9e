package compose

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/notify"
)

// savedSettings keeps what SaveSettings stores.
type savedSettings struct{ got []notify.ComposeSettings }

func (s *savedSettings) PutComposeSettings(_ context.Context, cs notify.ComposeSettings) error {
	s.got = append(s.got, cs)
	return nil
}

// TestSaveSettings: what is saved is trimmed and checked first; a bad
// category saves nothing; no categories give the defaults back.
func TestSaveSettings(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 21, 10, 30, 0, 123456789, time.UTC)
	store := &savedSettings{}
	o, err := SaveSettings(ctx, store, "ws1", []notify.ComposeChoice{{ID: " tariffs ", Name: " Tariffs ", Description: " Prices per hour. "}}, "  Luz Clara  ", now)
	if err != nil {
		t.Fatal(err)
	}
	want := notify.ComposeSettings{WorkspaceID: "ws1", Categories: []notify.ComposeChoice{{ID: "tariffs", Name: "Tariffs", Description: "Prices per hour."}},
		Brand: "Luz Clara", UpdatedAt: now.Truncate(time.Millisecond)}
	if d := cmp.Diff([]notify.ComposeSettings{want}, store.got); d != "" {
		t.Errorf("stored (-want +got):\n%s", d)
	}
	if d := cmp.Diff(Options{Tones: Tones, Categories: want.Categories, Brand: "Luz Clara"}, o); d != "" {
		t.Errorf("options (-want +got):\n%s", d)
	}
	if _, err := SaveSettings(ctx, store, "ws1", []notify.ComposeChoice{{ID: "Bad Id", Name: "x", Description: "y"}}, "", now); !notify.IsCode(err, notify.CodeValidation) {
		t.Errorf("a bad id = %v, want validation_failed", err)
	}
	if len(store.got) != 1 {
		t.Errorf("a refused save was stored: %d saves", len(store.got))
	}
	o, err = SaveSettings(ctx, store, "ws1", nil, "", now)
	if err != nil || !cmp.Equal(o.Categories, DefaultCategories) {
		t.Errorf("no categories = %v, %v; want the defaults", o.Categories, err)
	}
}
