package boltstore

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// TestHandEncodingIsEncodingJSONs: the hand-written encoders write the
// bytes encoding/json writes, for deliveries with every field set or
// empty and strings that need escaping.
func TestHandEncodingIsEncodingJSONs(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 30, 45, 123456789, time.UTC)
	local := time.Date(2026, 5, 1, 14, 30, 45, 0, time.FixedZone("CEST", 2*3600))
	odd := "quote\" back\\slash <b>&amp; \n\r\t\x01 \u2028\u2029 ü 日本 bad\xff"
	deliveries := []notify.Delivery{
		{},
		{NotificationID: "01J0ABC", Channel: notify.ChannelEmail, Status: notify.DeliverySent, CreatedAt: at, UpdatedAt: at},
		{WorkspaceID: "ws", Key: "k", NotificationID: odd, UserID: odd, Address: odd, Channel: notify.ChannelSMS, Status: notify.DeliveryFailed,
			Reason: odd, ProviderMessageID: odd, Answer: odd, AnsweredAt: &local, Encoding: "UCS-2", Segments: 3, Chunk: odd, CreatedAt: local, UpdatedAt: at},
		{NotificationID: "n", Segments: -1, Chunk: "n:0", CreatedAt: time.Date(26, 1, 2, 3, 4, 5, 6, time.UTC)},
		{NotificationID: "n", CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, // encoding/json refuses it
	}
	for i, d := range deliveries {
		want, wantErr := json.Marshal(deliveryRecord{Delivery: d, Chunk: d.Chunk})
		got, err := appendDeliveryRecord(nil, d)
		if (err != nil) != (wantErr != nil) || (err == nil && string(got) != string(want)) {
			t.Errorf("delivery %d:\n got %s, %v\nwant %s, %v", i, got, err, want, wantErr)
		}
		ref := notify.DeliveryRef{WorkspaceID: d.WorkspaceID + odd, NotificationID: d.NotificationID, Key: d.Key}
		wantRef, _ := json.Marshal(ref)
		if got := appendDeliveryRef(nil, ref); string(got) != string(wantRef) {
			t.Errorf("ref %d:\n got %s\nwant %s", i, got, wantRef)
		}
	}
}

func BenchmarkEncodeDelivery(b *testing.B) {
	at := time.Date(2026, 5, 1, 12, 30, 45, 123000000, time.UTC)
	d := notify.Delivery{NotificationID: "01J0ABCDEFGHJKMNPQRSTVWXYZ", UserID: "u0000042", Address: "v1.c2VhbGVkIGFkZHJlc3Mgb2YgdGhlIHVzZXI", Channel: notify.ChannelEmail,
		Status: notify.DeliverySent, ProviderMessageID: "0100018f3c4d5e6f-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d-000000", Chunk: "01J0ABCDEFGHJKMNPQRSTVWXYZ:17", CreatedAt: at, UpdatedAt: at}
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(deliveryRecord{Delivery: d, Chunk: d.Chunk})
		}
	})
	b.Run("by hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = encodeDelivery(d)
		}
	})
}
