package boltstore

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// BenchmarkDispatch runs what local dispatch does per queue message of 100
// recipients — read the users, record the deliveries, add the counts — from
// parallel workers, and reports deliveries per second. The target is 10,000/s
// on 2 cores: go test -bench Dispatch -cpu 2 ./shared/boltstore/
func BenchmarkDispatch(b *testing.B) {
	for _, tt := range []struct {
		name string
		opts []Option
	}{
		{"sync", nil},
		{"nosync", []Option{WithNoSync()}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			s, err := Open(b.TempDir()+"/bench.db", tt.opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := b.Context()
			const users = 10_000
			now := time.Now().UTC()
			for i := range users {
				u := notify.User{WorkspaceID: "ws", ID: fmt.Sprintf("cust-%06d", i), Name: "Ana", Email: "ana@example.com", Status: "active", CreatedAt: now}
				if _, err := s.PutUser(ctx, u); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.CreateNotification(ctx, notify.Notification{WorkspaceID: "ws", ID: "n-1", Body: "hola", CreatedAt: now}); err != nil {
				b.Fatal(err)
			}
			var msg atomic.Int64
			b.SetParallelism(4) // workers per core
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					m := msg.Add(1)
					ids := make([]string, notify.RecipientsPerMessage)
					ds := make([]notify.Delivery, notify.RecipientsPerMessage)
					for i := range ids {
						ids[i] = fmt.Sprintf("cust-%06d", (int(m)*notify.RecipientsPerMessage+i)%users)
						ds[i] = notify.Delivery{WorkspaceID: "ws", NotificationID: "n-1", Key: fmt.Sprintf("%d-%d", m, i), UserID: ids[i], Channel: notify.ChannelEmail, Status: notify.DeliverySent, CreatedAt: now, UpdatedAt: now}
					}
					if _, err := s.GetUsers(ctx, "ws", ids); err != nil {
						b.Error(err)
						return
					}
					if _, err := s.RecordDeliveries(ctx, ds); err != nil {
						b.Error(err)
						return
					}
					if _, err := s.AddNotificationCounts(ctx, "ws", "n-1", notify.Counts{Sent: notify.RecipientsPerMessage}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N*notify.RecipientsPerMessage)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

// BenchmarkPutOutbox writes one outbox entry per op from 8 or 64 parallel
// writers (on 2 cores), as local channels do for every delivery.
func BenchmarkPutOutbox(b *testing.B) {
	for _, tt := range []struct {
		name        string
		parallelism int
		opts        []Option
	}{
		{"sync-8", 4, nil},
		{"sync-64", 32, nil},
		{"nosync-8", 4, []Option{WithNoSync()}},
		{"nosync-64", 32, []Option{WithNoSync()}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			s, err := Open(b.TempDir()+"/bench.db", tt.opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := b.Context()
			var n atomic.Int64
			b.SetParallelism(tt.parallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					e := notify.OutboxEntry{WorkspaceID: "ws", NotificationID: "n-1", RecipientKey: fmt.Sprintf("cust-%d", i), Channel: notify.ChannelSMS, Address: "+34600000000", Body: "Hola Ana, tu factura está lista"}
					if err := s.PutOutbox(ctx, e); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
