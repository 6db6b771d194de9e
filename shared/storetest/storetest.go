// Package storetest is the contract suite of notify.Store. Every adapter runs
// Run against fresh, empty stores and must pass it unchanged; it tests
// behaviour through the port only, never an adapter's internals.
//
// What the suite takes as given, and adapters must honour:
//   - Times go in as UTC truncated to the millisecond and must come back as
//     the same instants (compared with time.Time.Equal, so the location is
//     free). An adapter need keep no finer precision.
//   - Nil and empty slices and maps are equal: an adapter may return either.
//   - User.Version is only checked to increase on every write; the port
//     promises UpdateUpload exactly one more than the stored Upload.Version,
//     whatever CreateUpload stored.
//   - Notification.UpdatedAt may be stamped by the store on status and count
//     changes, so those results are compared without it; every other time is
//     the caller's and is stored as given.
//   - Cursors are opaque; a page may hold fewer items than its limit (even
//     none) and still have a next page, and the last page may be empty.
//   - Ids of notifications, templates, API keys, uploads and campaigns are
//     ULIDs from notify.IDs, so their order is the order of their CreatedAt.
//   - A campaign's send (Campaign.Notification) is the operator's JSON text
//     and comes back byte for byte, spaces and all.
//   - A run is keyed by its campaign and its scheduled time to the
//     millisecond: the same instant in any zone is the same run.
//   - A session or one-time link is expired from its ExpiresAt on (at
//     ExpiresAt itself): GetSession judges by the store's clock, the
//     token methods by the now they are given. A store may keep expired
//     ones on disk (TTL deletion lags) but never answers with them.
//   - Audit entry ids are ULIDs from notify.IDs, so their order is the
//     order of their At; operators are listed by CreatedAt, then id.
//   - Inbox message ids are ULIDs from notify.IDs of their CreatedAt,
//     so an inbox's order is the order of their arrival; a message is
//     expired once its arrival is before notify.InboxHorizon of the
//     store's clock.
//   - TakeRate windows are current (the minute of now, or the next): a
//     store may forget a window once it is well past, and may tell windows
//     apart only by the second.
//
// It keeps data small (a few hundred items at most) so that it runs in
// seconds against a DynamoDB emulator.
package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/heraldhq/herald/shared/notify"
)

// Run runs the contract suite; newStore returns a fresh, empty store for
// each subtest (and may register its cleanup with t.Cleanup).
func Run(t *testing.T, newStore func(t *testing.T) notify.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s notify.Store)
	}{
		{"Workspaces", testWorkspaces},
		{"APIKeys", testAPIKeys},
		{"APIKeysIsolation", testAPIKeysIsolation},
		{"APIKeyTouch", testAPIKeyTouch},
		{"PutUser", testPutUser},
		{"UpdateUser", testUpdateUser},
		{"UpdateUserConcurrent", testUpdateUserConcurrent},
		{"GetUsers", testGetUsers},
		{"DeleteUser", testDeleteUser},
		{"ListUsersFilters", testListUsersFilters},
		{"ListUsersPaging", testListUsersPaging},
		{"UsersIsolation", testUsersIsolation},
		{"UsersSegmentPages", testUsersSegmentPages},
		{"FindUsersByPhone", testFindUsersByPhone},
		{"SaveTemplate", testSaveTemplate},
		{"ListTemplates", testListTemplates},
		{"DeleteTemplate", testDeleteTemplate},
		{"TemplatesIsolation", testTemplatesIsolation},
		{"CreateNotification", testCreateNotification},
		{"ListNotificationsFilters", testListNotificationsFilters},
		{"ListNotificationsPaging", testListNotificationsPaging},
		{"SetNotificationStatus", testSetNotificationStatus},
		{"AddNotificationCounts", testAddNotificationCounts},
		{"ApplyCounts", testApplyCounts},
		{"NotificationsIsolation", testNotificationsIsolation},
		{"RecordDeliveries", testRecordDeliveries},
		{"RecordDeliveriesConcurrent", testRecordDeliveriesConcurrent},
		{"ListDeliveries", testListDeliveries},
		{"UpdateDeliveryStatus", testUpdateDeliveryStatus},
		{"UpdateDeliveryStatusConcurrent", testUpdateDeliveryStatusConcurrent},
		{"DeliveriesIsolation", testDeliveriesIsolation},
		{"FindDeliveryByMessageID", testFindDeliveryByMessageID},
		{"RecordAnswer", testRecordAnswer},
		{"Idempotency", testIdempotency},
		{"IdempotencyExpiry", testIdempotencyExpiry},
		{"IdempotencyConcurrent", testIdempotencyConcurrent},
		{"IdempotencyIsolation", testIdempotencyIsolation},
		{"CreateUpload", testCreateUpload},
		{"UpdateUpload", testUpdateUpload},
		{"UpdateUploadConcurrent", testUpdateUploadConcurrent},
		{"ListUploads", testListUploads},
		{"UploadsIsolation", testUploadsIsolation},
		{"ComposeSettings", testComposeSettings},
		{"ComposeUsage", testComposeUsage},
		{"ComposeUsageConcurrent", testComposeUsageConcurrent},
		{"TakeRate", testTakeRate},
		{"TakeRateConcurrent", testTakeRateConcurrent},
		{"CreateCampaign", testCreateCampaign},
		{"UpdateCampaign", testUpdateCampaign},
		{"UpdateCampaignConcurrent", testUpdateCampaignConcurrent},
		{"DeleteCampaign", testDeleteCampaign},
		{"ListCampaigns", testListCampaigns},
		{"CampaignsIsolation", testCampaignsIsolation},
		{"StartRun", testStartRun},
		{"StartRunConcurrent", testStartRunConcurrent},
		{"FinishRun", testFinishRun},
		{"ListRuns", testListRuns},
		{"CreateOperator", testCreateOperator},
		{"CreateOperatorConflicts", testCreateOperatorConflicts},
		{"UpdateOperator", testUpdateOperator},
		{"UpdateOperatorConcurrent", testUpdateOperatorConcurrent},
		{"DeleteOperator", testDeleteOperator},
		{"OperatorsIsolation", testOperatorsIsolation},
		{"Sessions", testSessions},
		{"DeleteOperatorSessions", testDeleteOperatorSessions},
		{"OperatorTokens", testOperatorTokens},
		{"OperatorTokenExpiry", testOperatorTokenExpiry},
		{"UseOperatorTokenConcurrent", testUseOperatorTokenConcurrent},
		{"Audit", testAudit},
		{"AuditDefaultPage", testAuditDefaultPage},
		{"ConsoleSettings", testConsoleSettings},
		{"InboxPutList", testInboxPutList},
		{"InboxUpdate", testInboxUpdate},
		{"InboxStatusPaging", testInboxStatusPaging},
		{"InboxMarkRead", testInboxMarkRead},
		{"InboxExpiry", testInboxExpiry},
		{"InboxConcurrent", testInboxConcurrent},
		{"InboxDeleteUser", testInboxDeleteUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newStore(t))
		})
	}
}

// The two workspaces most tests use; nothing of one may show in the other.
const (
	wsA = "ws-a"
	wsB = "ws-b"
)

// now is the current time as the suite stores it.
func now() time.Time {
	return time.Now().UTC().Truncate(time.Millisecond)
}

// minute is a fixed instant plus i minutes, for data whose times only need
// to differ.
func minute(i int) time.Time {
	return time.Date(2026, 11, 21, 10, i, 0, 0, time.UTC)
}

func ptr[T any](v T) *T { return &v }

// diff compares want and got the way the suite's rules allow.
func diff(want, got any, opts ...cmp.Option) string {
	return cmp.Diff(want, got, append([]cmp.Option{cmpopts.EquateEmpty()}, opts...)...)
}

var (
	ignoreUserVersion       = cmpopts.IgnoreFields(notify.User{}, "Version")
	ignoreNotificationStamp = cmpopts.IgnoreFields(notify.Notification{}, "UpdatedAt")
)

// must stops the test on an unexpected error.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantCode checks that err is a *notify.Error with code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if !notify.IsCode(err, code) {
		t.Errorf("%s: err = %v, want code %s", what, err, code)
	}
}

// collect pages through list until there is no next cursor and returns every
// item and the number of pages. It fails on a page over limit and on a
// cursor that repeats itself.
func collect[T any](t *testing.T, what string, limit int, list func(p notify.Page) ([]T, string, error)) ([]T, int) {
	t.Helper()
	var all []T
	p := notify.Page{Limit: limit}
	for pages := 1; ; pages++ {
		items, next, err := list(p)
		if err != nil {
			t.Fatalf("%s, page %d: %v", what, pages, err)
		}
		if len(items) > limit {
			t.Fatalf("%s, page %d: %d items, want at most %d", what, pages, len(items), limit)
		}
		all = append(all, items...)
		if next == "" {
			return all, pages
		}
		if next == p.Cursor || pages > 1000 {
			t.Fatalf("%s, page %d: cursor %q does not move on", what, pages, next)
		}
		p.Cursor = next
	}
}
