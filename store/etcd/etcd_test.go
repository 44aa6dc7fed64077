package etcd_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"supportbot/bot"
	"supportbot/store/etcd"
	"supportbot/store/etcd/etcdtest"
	"supportbot/store/storetest"
)

// testKey is a fixed token key.
var testKey, _ = hex.DecodeString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")

func mustOpen(t testing.TB, opt etcd.Options) *etcd.Store {
	t.Helper()
	if opt.Key == nil {
		opt.Key = testKey
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := etcd.Open(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	c := etcdtest.StartCluster(t, 1)
	cli := c.Client(t)
	// Each case's directory names its own prefix, so cases do not meet
	// and reopening the directory finds the same data.
	prefix := func(dir string) string { return "test" + dir + "/" }
	get := func(t *testing.T, key string) []byte {
		resp, err := cli.Get(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Kvs) == 0 {
			return nil
		}
		return resp.Kvs[0].Value
	}
	dirs := map[storetest.Store]string{}
	var mu sync.Mutex
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T, dir string, now func() time.Time) storetest.Store {
			s := mustOpen(t, etcd.Options{Client: cli, Prefix: prefix(dir), Now: now, HandledTTL: storetest.HandledTTL})
			mu.Lock()
			dirs[s] = dir
			mu.Unlock()
			return s
		},
		RawSession: func(t *testing.T, s storetest.Store, key string) []byte {
			mu.Lock()
			defer mu.Unlock()
			return get(t, prefix(dirs[s])+"s/"+key)
		},
		PutRawSession: func(t *testing.T, s storetest.Store, key string, raw []byte) {
			mu.Lock()
			defer mu.Unlock()
			if _, err := cli.Put(context.Background(), prefix(dirs[s])+"s/"+key, string(raw)); err != nil {
				t.Fatal(err)
			}
		},
		Replicated: true,
		// Fewer than bbolt's 100,000: one etcd member commits a few
		// thousand Txns a second here (each an fsync'd raft entry), and
		// this keeps the case near 10 s under -race on two cores.
		Sessions: 20_000,
	})
}

func TestOpenKeyMismatch(t *testing.T) {
	c := etcdtest.StartCluster(t, 1)
	cli := c.Client(t)
	mustOpen(t, etcd.Options{Client: cli})
	mustOpen(t, etcd.Options{Client: cli}) // the same key again
	other := []byte(string(testKey))
	other[0] ^= 1
	_, err := etcd.Open(context.Background(), etcd.Options{Client: cli, Key: other})
	if !errors.Is(err, etcd.ErrKeyMismatch) {
		t.Errorf("Open with another key: error %v, want ErrKeyMismatch", err)
	}
	// Another prefix is another store.
	mustOpen(t, etcd.Options{Client: cli, Key: other, Prefix: "other/"})
}

func TestOpenUnreachable(t *testing.T) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{"127.0.0.1:1"}, DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := etcd.Open(ctx, etcd.Options{Client: cli, Key: testKey}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Open of an unreachable cluster: error %v, want a deadline", err)
	}
}

// TestFenced: once the leadership key is gone, every write is refused
// with ErrFenced and writes nothing.
func TestFenced(t *testing.T) {
	c := etcdtest.StartCluster(t, 1)
	cli := c.Client(t)
	ctx := context.Background()
	const leader = "election/leader"
	put, err := cli.Put(ctx, leader, "replica-1")
	if err != nil {
		t.Fatal(err)
	}
	rev := put.Header.Revision
	s := mustOpen(t, etcd.Options{Client: cli, Fence: func() (string, int64) { return leader, rev }})
	envs, err := s.Commit(ctx, bot.Commit{Session: bot.Session{Key: "telegram:1"}, UpdateID: 1, Replies: []bot.Reply{{Text: "a"}}})
	if err != nil {
		t.Fatalf("Commit while holding the fence: %v", err)
	}
	if err := s.KV("threads").Put(ctx, "T-1", []byte("x")); err != nil {
		t.Fatalf("KV Put while holding the fence: %v", err)
	}

	// Another replica takes over: the key is deleted and created anew.
	if _, err := cli.Delete(ctx, leader); err != nil {
		t.Fatal(err)
	}
	cur, _, _ := s.Load(ctx, "telegram:1")
	if _, err := s.Commit(ctx, bot.Commit{Session: cur, UpdateID: 2, Replies: []bot.Reply{{Text: "b"}}}); !errors.Is(err, bot.ErrFenced) {
		t.Errorf("Commit without the key: error %v, want ErrFenced", err)
	}
	if _, err := cli.Put(ctx, leader, "replica-2"); err != nil {
		t.Fatal(err)
	}
	// Fenced comes first, even for a duplicate with a stale revision.
	if _, err := s.Commit(ctx, bot.Commit{Session: bot.Session{Key: "telegram:1"}, UpdateID: 1}); !errors.Is(err, bot.ErrFenced) {
		t.Errorf("Commit of a duplicate under another leader: error %v, want ErrFenced", err)
	}
	if err := s.Delivered(ctx, envs[0].ID); !errors.Is(err, bot.ErrFenced) {
		t.Errorf("Delivered: error %v, want ErrFenced", err)
	}
	if err := s.KV("threads").Put(ctx, "T-1", []byte("y")); !errors.Is(err, bot.ErrFenced) {
		t.Errorf("KV Put: error %v, want ErrFenced", err)
	}
	if err := s.KV("threads").Delete(ctx, "T-1"); !errors.Is(err, bot.ErrFenced) {
		t.Errorf("KV Delete: error %v, want ErrFenced", err)
	}
	if _, err := s.Expire(ctx, time.Now().Add(time.Hour)); !errors.Is(err, bot.ErrFenced) {
		t.Errorf("Expire: error %v, want ErrFenced", err)
	}

	// Nothing was written.
	if got, _, err := s.Load(ctx, "telegram:1"); err != nil || got.Rev != cur.Rev {
		t.Errorf("session at Rev %d (%v), want unchanged %d", got.Rev, err, cur.Rev)
	}
	if ok, _ := s.Handled(ctx, "telegram:1", 2); ok {
		t.Error("update 2 recorded as handled")
	}
	if got, err := s.Pending(ctx, "telegram", 0, 0); err != nil || len(got) != 1 || got[0].Reply.Text != "a" {
		t.Errorf("Pending = %v, %v; want only a", got, err)
	}
	if v, _, _ := s.KV("threads").Get(ctx, "T-1"); string(v) != "x" {
		t.Errorf("KV value %q, want x", v)
	}
}

// TestHandledLeaseExpires: handled markers are deleted by their lease,
// HandledTTL (plus at most one bucket) after their commit.
func TestHandledLeaseExpires(t *testing.T) {
	c := etcdtest.StartCluster(t, 1)
	cli := c.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const ttl = 2 * time.Second // etcd's shortest lease here
	// A stopped clock keeps every commit in one lease bucket, so the
	// last Commit meets the expired lease and must grant another.
	committed := time.Now()
	s := mustOpen(t, etcd.Options{Client: cli, Prefix: "p/", HandledTTL: ttl, Now: func() time.Time { return committed }})
	if _, err := s.Commit(ctx, bot.Commit{Session: bot.Session{Key: "telegram:1"}, UpdateID: 42}); err != nil {
		t.Fatal(err)
	}
	const key = "p/h/telegram/42"
	resp, err := cli.Get(ctx, key)
	if err != nil || len(resp.Kvs) != 1 || resp.Kvs[0].Lease == 0 {
		t.Fatalf("handled marker %s = %v, %v; want one on a lease", key, resp, err)
	}
	w := cli.Watch(ctx, key, clientv3.WithRev(resp.Header.Revision+1))
	for wr := range w {
		for _, ev := range wr.Events {
			if ev.Type == clientv3.EventTypeDelete {
				if age := time.Since(committed); age < ttl {
					t.Errorf("marker deleted %v after its commit, before its TTL %v", age, ttl)
				}
				if _, err := s.Commit(ctx, bot.Commit{Session: bot.Session{Key: "telegram:2"}, UpdateID: 43}); err != nil {
					t.Fatalf("Commit after the bucket's lease expired: %v", err)
				}
				return
			}
		}
	}
	t.Fatalf("marker %s not deleted: %v", key, ctx.Err())
}

// TestLeaderKilled: the etcd leader member is killed while conversations
// commit; each retries an update with the same id after an ambiguous
// error, and no update is lost or applied twice.
func TestLeaderKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-member cluster")
	}
	c := etcdtest.StartCluster(t, 3)
	cli := c.Client(t)
	s := mustOpen(t, etcd.Options{Client: cli})
	const chats, updates = 20, 30
	var (
		done     atomic.Int64 // updates applied
		retries  atomic.Int64
		wg       sync.WaitGroup
		errs     = make([]error, chats)
		deadline = time.Now().Add(30 * time.Second)
		quarter  = make(chan struct{}) // closed when a quarter of the updates are in
		once     sync.Once
	)
	for chat := range chats {
		wg.Go(func() {
			key := fmt.Sprintf("telegram:%d", chat)
			for u := 1; u <= updates; u++ {
				id := int64(chat*1000 + u)
				for attempt := 0; ; attempt++ {
					if time.Now().After(deadline) {
						errs[chat] = fmt.Errorf("update %d: still failing at the deadline", id)
						return
					}
					ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
					err := commitStep(ctx, s, key, id, u)
					cancel()
					if err == nil || errors.Is(err, bot.ErrDuplicate) {
						break
					}
					retries.Add(1) // ErrConflict or ambiguous: same id again
				}
				if done.Add(1) == chats*updates/4 {
					once.Do(func() { close(quarter) })
				}
			}
		})
	}
	// Kill the leader once a quarter of the updates are in.
	<-quarter
	lead := c.Leader()
	if lead < 0 {
		t.Fatal("no leader")
	}
	killed := time.Now()
	c.Kill(lead)
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.WaitLeader(wctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed leader m%d; new leader after %v", lead, time.Since(killed).Round(time.Millisecond))
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d retries", retries.Load())

	ctx := context.Background()
	for chat := range chats {
		key := fmt.Sprintf("telegram:%d", chat)
		sess, ok, err := s.Load(ctx, key)
		if err != nil || !ok {
			t.Fatalf("Load(%s) = %t, %v", key, ok, err)
		}
		if got := sess.Top().Vars["n"]; got != strconv.Itoa(updates) {
			t.Errorf("%s applied %s updates, want %d", key, got, updates)
		}
	}
	envs, err := s.Pending(ctx, "telegram", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range envs {
		seen[e.Key+" "+e.Reply.Text]++
	}
	for chat := range chats {
		for u := 1; u <= updates; u++ {
			if k := fmt.Sprintf("telegram:%d %d", chat, u); seen[k] != 1 {
				t.Errorf("reply %q stored %d times, want once", k, seen[k])
			}
		}
	}
	if len(envs) != chats*updates {
		t.Errorf("%d envelopes, want %d", len(envs), chats*updates)
	}
}

// commitStep is one update u of a conversation: it counts the updates
// applied in the session and replies with u.
func commitStep(ctx context.Context, s *etcd.Store, key string, id int64, u int) error {
	sess, ok, err := s.Load(ctx, key)
	if err != nil {
		return err
	}
	if !ok {
		sess = bot.Session{Key: key, Stack: []bot.Frame{{Flow: "main", State: "menu", Vars: map[string]string{"n": "0"}}}}
	}
	n, _ := strconv.Atoi(sess.Top().Vars["n"])
	sess.Top().Vars["n"] = strconv.Itoa(n + 1)
	_, err = s.Commit(ctx, bot.Commit{Session: sess, UpdateID: id, Replies: []bot.Reply{{Text: strconv.Itoa(u)}}})
	return err
}
