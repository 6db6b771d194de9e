package dynamo

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"time"
)

// Every key and index value of the table is built here and nowhere else, so
// the layout in DESIGN.md can be checked against one file (and its test).

// Attribute names of the table's keys and indexes.
const (
	attrPK        = "pk"
	attrSK        = "sk"
	attrGSI1PK    = "gsi1pk"
	attrGSI1SK    = "gsi1sk"
	attrExpiresAt = "expiresAt" // TTL, epoch seconds
	gsi1Name      = "GSI1"
	attrGSI2PK    = "gsi2pk"
	attrGSI2SK    = "gsi2sk"
	gsi2Name      = "GSI2"
)

// Shard counts. Changing one orphans what was written under the old count, so
// they are fixed for the life of a table.
const (
	// deliveryShards spreads one notification's deliveries over 32 partition
	// keys: 32 × 1,000 WCU/s is 32,000 deliveries/s, three times the 10,000/s
	// a mass send needs.
	deliveryShards = 32
	// userShards spreads a workspace's users over 16 partition keys of the
	// user index: a bulk import writes up to 16,000 users/s before the index
	// throttles.
	userShards = 16
)

// Sort keys of items that are alone (or nearly) in their partition.
const (
	skWorkspace    = "WS"
	skAPIKey       = "KEY"
	skUser         = "U"
	skTemplate     = "T"
	skNotification = "N"
	skContent      = "CONTENT"
	skCounts       = "COUNTS"
	skIdempotency  = "IDEM"
	skCompose      = "COMPOSE"
	skConsole      = "CONSOLE"
)

// workspaceKey is the workspace item; the workspace's API keys by id share
// its partition.
func workspaceKey(ws string) (pk, sk string) { return "WS#" + ws, skWorkspace }

// apiKeyByHashKey is the item a request's key is found by.
func apiKeyByHashKey(hash string) (pk, sk string) { return "KEY#" + hash, skAPIKey }

// apiKeyByIDKey is the copy of a key that lists and revokes it by id.
func apiKeyByIDKey(ws, id string) (pk, sk string) { return "WS#" + ws, apiKeyIDPrefix + id }

const apiKeyIDPrefix = "KEY#"

// uploadKey is one spreadsheet upload, in the workspace's partition beside
// its API keys: uploads are few and written a few times each, and listing
// them is a Query of the partition (ULID ids sort by time) with no index
// copy of an item that may hold hundreds of row errors.
func uploadKey(ws, id string) (pk, sk string) { return "WS#" + ws, uploadPrefix + id }

const uploadPrefix = "UPLOAD#"

// campaignKey is one campaign, in the workspace's partition beside its
// uploads: campaigns are few and written a few times a run, and listing
// every kind is a Query of the partition (ULID ids sort by creation).
func campaignKey(ws, id string) (pk, sk string) { return "WS#" + ws, campaignPrefix + id }

const campaignPrefix = "CAMPAIGN#"

// campaignKindIndexKey places a campaign in GSI1's list of its kind, so
// that listing one kind reads only that kind: scheduled sends pile up by
// the thousand where operator campaigns are a handful, and a filter would
// read (and pay for) every send to find them. The id sorts by creation.
func campaignKindIndexKey(ws, kind, id string) (pk, sk string) {
	return campaignKindPK(ws, kind), id
}

func campaignKindPK(ws, kind string) string { return "WS#" + ws + "#CAMPAIGNS#" + kind }

// runKey is the run of one scheduled time of a campaign, in a partition of
// the campaign's runs. The time is UTC to the millisecond (what the store
// keeps of every time) with a fixed width, so text order is time order and
// newest first is a reverse Query.
func runKey(ws, campaignID string, scheduledAt time.Time) (pk, sk string) {
	return runPK(ws, campaignID), runPrefix + runTime(scheduledAt)
}

func runPK(ws, campaignID string) string { return "WS#" + ws + "#CAMPAIGN#" + campaignID }

// runTime is the part of a run's sort key after runPrefix, which a ListRuns
// cursor carries.
func runTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

const runPrefix = "RUN#"

// composeSettingsKey is what a workspace changed of AI composition: one
// small item in the workspace's partition, read once per compose request.
func composeSettingsKey(ws string) (pk, sk string) { return "WS#" + ws, skCompose }

// consoleSettingsKey is what a workspace's admins set in the console (the
// send form's destinations): one small item in the workspace's partition,
// read once per send form.
func consoleSettingsKey(ws string) (pk, sk string) { return "WS#" + ws, skConsole }

// composeUsageKey is a workspace's AI composition total of one day (UTC,
// YYYY-MM-DD) and model. The day is fixed width, so the sort keys of a
// partition sort by day then model, and a range of days is one key
// condition (composeUsageRange). Model ids may contain '#': the model is
// last, after the fixed-width day, so it cannot be mistaken for one.
func composeUsageKey(ws, day, model string) (pk, sk string) {
	return "WS#" + ws, composeUsagePrefix + day + "#" + model
}

// composeUsageRange bounds the sort keys of the days from..to inclusive for
// BETWEEN: lo sorts before every model of from, hi after every model of to
// ('$' follows '#'), and no item has hi as its key.
func composeUsageRange(ws, from, to string) (pk, lo, hi string) {
	return "WS#" + ws, composeUsagePrefix + from + "#", composeUsagePrefix + to + "$"
}

const composeUsagePrefix = "COMPOSEUSAGE#"

// rateKey is the counter of one fixed window (its start in Unix seconds) of
// the workspace's limit name. It is found by its exact key only, never
// listed: the window is last, all digits, so a name with '#' stays apart.
func rateKey(ws, name string, window time.Time) (pk, sk string) {
	return "WS#" + ws, "RATE#" + name + "#" + strconv.FormatInt(window.Unix(), 10)
}

// rateExpiresAt is the TTL of a rate window's counter: an hour after the
// window started, when a window of the minutes callers count in is long
// over.
func rateExpiresAt(window time.Time) int64 { return window.Add(rateRetention).Unix() }

// rateRetention is how long after its start a rate window is kept.
const rateRetention = time.Hour

// userKey is one user: a partition per user, so bulk imports spread.
func userKey(ws, id string) (pk, sk string) { return "WS#" + ws + "#U#" + id, skUser }

// userIndexKey places a user in the sharded list of the workspace's users.
func userIndexKey(ws, id string) (pk, sk string) {
	return userShardPK(ws, shardOf(id, userShards)), id
}

func userShardPK(ws string, shard int) string {
	return fmt.Sprintf("WS#%s#USERS#%02d", ws, shard)
}

// templateKey is the latest version of a template.
func templateKey(ws, id string) (pk, sk string) { return templatePK(ws, id), skTemplate }

// templateVersionKey is one kept version of a template, in its partition.
func templateVersionKey(ws, id string, version int) (pk, sk string) {
	return templatePK(ws, id), fmt.Sprintf("V#%010d", version)
}

func templatePK(ws, id string) string { return "WS#" + ws + "#T#" + id }

// templateIndexKey lists a workspace's templates newest first: created time
// (fixed width, so it sorts as text) then id.
func templateIndexKey(ws, id string, created time.Time) (pk, sk string) {
	return templateIndexPK(ws), sortableTime(created) + "#" + id
}

func templateIndexPK(ws string) string { return "WS#" + ws + "#T" }

// notificationKey is a notification without its content and counts;
// notificationContentKey is its content and notificationCountsKey its
// counters, all in one partition so one Query reads the three.
func notificationKey(ws, id string) (pk, sk string) { return notificationPK(ws, id), skNotification }

func notificationContentKey(ws, id string) (pk, sk string) {
	return notificationPK(ws, id), skContent
}

// notificationCountsKey is the small item every counter update rewrites. It
// carries no gsi1pk, so an update is never copied to the history index.
func notificationCountsKey(ws, id string) (pk, sk string) {
	return notificationPK(ws, id), skCounts
}

func notificationPK(ws, id string) string { return "WS#" + ws + "#N#" + id }

// historyIndexKey is the history: a notification's ULID id sorts by time.
func historyIndexKey(ws, id string) (pk, sk string) { return historyPK(ws), id }

func historyPK(ws string) string { return "WS#" + ws + "#N" }

// termKey is one entry of the inverted index: notification id under a term.
func termKey(ws, term, notificationID string) (pk, sk string) {
	return termPK(ws, term), notificationID
}

func termPK(ws, term string) string { return "WS#" + ws + "#TERM#" + term }

// deliveryKey is one recipient of a notification, in the shard its key hashes to.
func deliveryKey(ws, notificationID, key string) (pk, sk string) {
	return deliveryShardPK(ws, notificationID, shardOf(key, deliveryShards)), key
}

func deliveryShardPK(ws, notificationID string, shard int) string {
	return fmt.Sprintf("WS#%s#N#%s#D#%02d", ws, notificationID, shard)
}

// idempotencyKey is the record of one Idempotency-Key.
func idempotencyKey(ws, key string) (pk, sk string) {
	return "WS#" + ws + "#IDEM#" + key, skIdempotency
}

// shardOf hashes s (FNV-1a) into [0, n).
func shardOf(s string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(s))
	return int(h.Sum32() % uint32(n))
}

// sortableTime formats t in UTC with a fixed width so that text order is
// time order.
func sortableTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z")
}

// crockford is the ULID alphabet.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// ulidTimePrefix is the first 10 characters of every ULID made in t's
// millisecond. Ids of later milliseconds sort after it, ids of earlier ones
// before it, so it bounds a key condition on ids by time.
func ulidTimePrefix(t time.Time) string {
	ms := t.UnixMilli()
	if ms < 0 {
		ms = 0
	}
	if ms >= 1<<48 {
		ms = 1<<48 - 1
	}
	var out [10]byte
	for i := 9; i >= 0; i-- {
		out[i] = crockford[ms&31]
		ms >>= 5
	}
	return string(out[:])
}

// nanos is t as Unix nanoseconds, 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is the inverse of nanos.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// countMarkerKey records that the counts of one dispatch chunk were applied.
// Markers have their own partition so that reading a notification never
// reads them.
func countMarkerKey(ws, notificationID, marker string) (pk, sk string) {
	return notificationPK(ws, notificationID) + "#C", marker
}

// userPhoneKey is a user's entry in GSI2, the phone index across
// workspaces (sparse: users without a phone are not in it). Workspace and
// user ids never contain '#'.
func userPhoneKey(phone, ws, id string) (pk, sk string) {
	return "PHONE#" + phone, ws + "#" + id
}

// messageIDKey is the index entry of a delivery by its provider's message
// id (notify.TrackedByMessageID channels): a partition per message, found by
// a GetItem when the provider reports the status.
func messageIDKey(channel, messageID string) (pk, sk string) {
	return "MSG#" + channel + "#" + messageID, skMessageID
}

const skMessageID = "MSG"

// operatorKey is one operator of the console, in the workspace's partition
// beside its API keys: a workspace has a handful, and listing them is a
// Query of the partition.
func operatorKey(ws, id string) (pk, sk string) { return "WS#" + ws, operatorPrefix + id }

const operatorPrefix = "OP#"

// operatorEmailKey is the claim of a (lower-case) email by one operator:
// signing in names no workspace, and an email belongs to one operator in
// all of Herald. Its partition is the email, so a condition on it makes the
// email unique.
func operatorEmailKey(email string) (pk, sk string) { return "OPEMAIL#" + email, skOperatorEmail }

const skOperatorEmail = "OPEMAIL"

// sessionKey is one signed-in browser, found by the hash of its cookie's
// secret alone (a request names no workspace before it is signed in).
func sessionKey(id string) (pk, sk string) { return "SESSION#" + id, skSession }

const skSession = "SESSION"

// operatorSessionKey is a session's entry in the list of its operator's
// sessions, which ending them all reads. It is in a partition per operator,
// so the list is one Query and reads no other operator's.
func operatorSessionKey(ws, operatorID, sessionID string) (pk, sk string) {
	return operatorSessionsPK(ws, operatorID), sessionPrefix + sessionID
}

func operatorSessionsPK(ws, operatorID string) string { return "WS#" + ws + "#OP#" + operatorID }

const sessionPrefix = "SESSION#"

// operatorTokenKey is a one-time link (setup, invitation, reset), found by
// the hash of its secret.
func operatorTokenKey(hash string) (pk, sk string) { return "OPTOKEN#" + hash, skOperatorToken }

const skOperatorToken = "OPTOKEN"

// auditKey is one entry of a workspace's audit trail: the ULID id sorts by
// time, so newest first is a reverse Query of the partition.
func auditKey(ws, id string) (pk, sk string) { return auditPK(ws), id }

func auditPK(ws string) string { return "WS#" + ws + "#AUDIT" }

// ttlSeconds is the table's TTL value (epoch seconds) of an item that
// expires at t, rounded up so that TTL never makes an item eligible for
// deletion before t. Reads still compare the exact expiry: TTL deletion lags.
func ttlSeconds(t time.Time) int64 { return t.Add(time.Second - time.Nanosecond).Unix() }

// inboxPK is one user's in-app inbox: a partition per user, so listing,
// counting and changing a user's messages read that user alone, and
// deleting the user deletes one partition.
func inboxPK(ws, user string) string { return "WS#" + ws + "#INBOX#" + user }

// inboxStateKey is the small item that sums an inbox up (version, the
// message put last, unread counts by day): what a poll reads.
func inboxStateKey(ws, user string) (pk, sk string) { return inboxPK(ws, user), skInboxState }

const skInboxState = "STATE"

// inboxMessageKey is one message; its id is a ULID, so the partition's
// messages sort by arrival and newest first is a reverse Query.
func inboxMessageKey(ws, user, id string) (pk, sk string) {
	return inboxPK(ws, user), inboxMessagePrefix + id
}

const inboxMessagePrefix = "M#"

// inboxMessageRange bounds the sort keys of the messages that arrived at
// or after horizon (those not expired): lo is the ULID time prefix of the
// horizon's millisecond, hi follows every id ('~' after the ULID alphabet).
func inboxMessageRange(horizon time.Time) (lo, hi string) {
	return inboxMessagePrefix + ulidTimePrefix(horizon), inboxMessagePrefix + "~"
}

// inboxNoteKey says which message a notification left in the inbox: its
// condition keeps a retried delivery from leaving a second one.
func inboxNoteKey(ws, user, notificationID string) (pk, sk string) {
	return inboxPK(ws, user), inboxNotePrefix + notificationID
}

const inboxNotePrefix = "N#"

// inboxUnreadAttr is the state item's attribute counting the unread
// messages that arrived on day (UTC): a day's count drops out of the sum
// when its messages expire (notify.InboxExpiry), with no write.
func inboxUnreadAttr(day time.Time) string { return inboxUnreadPrefix + day.UTC().Format("20060102") }

const inboxUnreadPrefix = "unread"
