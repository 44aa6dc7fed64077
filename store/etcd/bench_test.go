package etcd_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"supportbot/bot"
	"supportbot/store/etcd"
	"supportbot/store/etcd/etcdtest"
	"supportbot/store/storetest"
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
			ctx := context.Background()
			storetest.Parallel(b, chats, "steps", func(g int, op int64) error {
				return benchStep(ctx, s, "telegram:"+strconv.Itoa(g), op)
			})
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
