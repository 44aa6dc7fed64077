package etcd_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"supportbot/bot"
	"supportbot/store/etcd"
	"supportbot/store/etcd/etcdtest"
)

// BenchmarkCommitParallel measures Commit on a 3-member embedded cluster
// (loopback, fsync on) with 20 and 200 conversations committing at once,
// each a Load and a Commit of one or two replies, as the engine does per
// step. It reports steps/s and the p50 and p99 of a step.
func BenchmarkCommitParallel(b *testing.B) {
	c := etcdtest.StartCluster(b, 3)
	cli := c.Client(b)
	for _, chats := range []int{20, 200} {
		b.Run(fmt.Sprintf("chats-%d", chats), func(b *testing.B) {
			s := mustOpen(b, etcd.Options{Client: cli, Prefix: fmt.Sprintf("bench-%d-%d/", chats, b.N)})
			var (
				next      atomic.Int64
				wg        sync.WaitGroup
				latencies = make([][]time.Duration, chats)
				errs      = make([]error, chats)
			)
			ctx := context.Background()
			b.ResetTimer()
			for g := range chats {
				wg.Go(func() {
					key := "telegram:" + strconv.Itoa(g)
					for {
						op := next.Add(1)
						if op > int64(b.N) {
							return
						}
						start := time.Now()
						if err := benchStep(ctx, s, key, op); err != nil {
							errs[g] = err
							return
						}
						latencies[g] = append(latencies[g], time.Since(start))
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			for _, err := range errs {
				if err != nil {
					b.Fatal(err)
				}
			}
			all := slices.Sorted(slices.Values(slices.Concat(latencies...)))
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
			b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// benchStep is one step of a logged-in conversation: Load, then Commit.
func benchStep(ctx context.Context, s *etcd.Store, key string, op int64) error {
	sess, ok, err := s.Load(ctx, key)
	if err != nil {
		return err
	}
	if !ok {
		sess = bot.Session{Key: key, Lang: "he", Token: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjdXN0LTEwMDIzNCJ9.c2ln",
			Stack: []bot.Frame{{Flow: "main", State: "menu"}, {Flow: "order_status", State: "show_status", Vars: map[string]string{"order_id": "A-100234"}}}}
	}
	sess.Updated = time.Now()
	sess.Stack[1].Vars["step"] = strconv.FormatInt(op, 10)
	replies := []bot.Reply{{Text: "הזמנה A-100234: נשלחה ב-3 במרץ, צפויה להגיע תוך 2–4 ימי עסקים.",
		Buttons: [][]bot.Button{{{Label: "מעקב משלוח", Data: "track"}, {Label: "נציג אנושי", Data: "human"}}}}}
	if op%2 == 0 {
		replies = append([]bot.Reply{{EditID: 812, Text: "בודק את ההזמנה…"}}, replies...)
	}
	_, err = s.Commit(ctx, bot.Commit{Session: sess, UpdateID: op, Lang: "he", Replies: replies})
	return err
}
