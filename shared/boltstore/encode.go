package boltstore

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/heraldhq/herald/shared/jsonenc"
	"github.com/heraldhq/herald/shared/notify"
)

// The records written once per delivery (the delivery, its message-id
// reference) are encoded by hand, to the very bytes encoding/json gives
// (a test compares them), without its reflection and per-field
// allocations: on the send path they were a few percent of the CPU.

// appendDeliveryRecord appends the JSON of deliveryRecord{d, d.Chunk}.
func appendDeliveryRecord(b []byte, d notify.Delivery) ([]byte, error) {
	if !jsonTime(d.CreatedAt) || !jsonTime(d.UpdatedAt) || (d.AnsweredAt != nil && !jsonTime(*d.AnsweredAt)) {
		// A time encoding/json refuses: let it say so.
		data, err := json.Marshal(deliveryRecord{Delivery: d, Chunk: d.Chunk})
		return append(b, data...), err
	}
	b = append(b, `{"notificationId":`...)
	b = appendJSONString(b, d.NotificationID)
	b = appendField(b, "userId", d.UserID)
	b = appendField(b, "address", d.Address)
	b = append(b, `,"channel":`...)
	b = appendJSONString(b, string(d.Channel))
	b = append(b, `,"status":`...)
	b = appendJSONString(b, string(d.Status))
	b = appendField(b, "reason", d.Reason)
	b = appendField(b, "providerMessageId", d.ProviderMessageID)
	b = appendField(b, "answer", d.Answer)
	if d.AnsweredAt != nil {
		b = append(b, `,"answeredAt":`...)
		b = appendJSONTime(b, *d.AnsweredAt)
	}
	b = appendField(b, "encoding", d.Encoding)
	if d.Segments != 0 {
		b = append(b, `,"segments":`...)
		b = strconv.AppendInt(b, int64(d.Segments), 10)
	}
	b = append(b, `,"createdAt":`...)
	b = appendJSONTime(b, d.CreatedAt)
	b = append(b, `,"updatedAt":`...)
	b = appendJSONTime(b, d.UpdatedAt)
	b = appendField(b, "chunk", d.Chunk)
	return append(b, '}'), nil
}

// appendDeliveryRef appends the JSON of r.
func appendDeliveryRef(b []byte, r notify.DeliveryRef) []byte {
	b = append(b, `{"WorkspaceID":`...)
	b = appendJSONString(b, r.WorkspaceID)
	b = append(b, `,"NotificationID":`...)
	b = appendJSONString(b, r.NotificationID)
	b = append(b, `,"Key":`...)
	b = appendJSONString(b, r.Key)
	return append(b, '}')
}

// appendField appends ,"name":"v" unless v is empty (omitempty).
func appendField(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJSONString(b, v)
}

// jsonTime reports whether encoding/json encodes t (years 0 to 9999).
func jsonTime(t time.Time) bool {
	y := t.Year()
	return y >= 0 && y <= 9999
}

// appendJSONTime appends t as time.Time.MarshalJSON writes it.
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendJSONString appends s as json.Marshal writes a string.
func appendJSONString(b []byte, s string) []byte { return jsonenc.AppendString(b, s, true) }
