package store

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"supportbot/bot"
	"supportbot/store/storetest"
)

// benchConfigs are the write modes the benchmarks compare. All but nosync
// are durable (one fsync per transaction).
var benchConfigs = []struct {
	name string
	opt  Options
}{
	{"update", Options{}},
	{"batch-1000", Options{Batch: true, MaxBatchSize: 1000}},
	{"batch-200", Options{Batch: true}}, // the default
	{"batch-32", Options{Batch: true, MaxBatchSize: 32}},
	{"nosync", Options{NoSync: true}},
}

// conversations is how many conversations BenchmarkCommitParallel runs at
// once, each in its own goroutine, as the engine's per-key lock allows.
const conversations = 200

// benchSession returns a realistic logged-in session in the middle of a flow.
func benchSession(key string) bot.Session {
	return bot.Session{
		Key:  key,
		Lang: "he",
		Stack: []bot.Frame{
			{Flow: "main", State: "menu"},
			{
				Flow:    "order_status",
				State:   "show_status",
				History: []string{"ask_order", "pick_order"},
				Vars:    map[string]string{"order_id": "A-100234", "email": "dana@example.com"},
				Pages:   map[string]int{"pick_order": 1},
			},
		},
		Token:    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjdXN0LTEwMDIzNCJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
		Customer: "Dana Levi",
		Email:    "dana@example.com",
		Updated:  t0,
	}
}

// benchReplies returns one or two replies, alternating with op.
func benchReplies(op int64) []bot.Reply {
	status := bot.Reply{
		Text: "הזמנה A-100234: נשלחה ב-3 במרץ, צפויה להגיע תוך 2–4 ימי עסקים.",
		Buttons: [][]bot.Button{
			{{Label: "מעקב משלוח", Data: "track"}, {Label: "הזמנה אחרת", Data: "other"}},
			{{Label: "נציג אנושי", Data: "human"}},
		},
	}
	if op%2 == 0 {
		return []bot.Reply{{EditID: 812, Text: "בודק את ההזמנה…"}, status}
	}
	return []bot.Reply{status}
}

// commit is one benchmark op: conversation s handles update op.
func commit(db *DB, s *bot.Session, op int64) error {
	s.Updated = t0.Add(time.Duration(op) * time.Millisecond)
	s.Stack[1].Vars["step"] = strconv.FormatInt(op, 10)
	_, err := db.Commit(context.Background(), bot.Commit{Session: *s, UpdateID: op, Lang: "he", Replies: benchReplies(op)})
	return err
}

func BenchmarkCommit(b *testing.B) {
	for _, c := range []struct {
		name string
		opt  Options
	}{
		{"update", Options{}},
		{"batch-default", Options{Batch: true}},
		{"nosync", Options{NoSync: true}},
	} {
		b.Run(c.name, func(b *testing.B) {
			db := mustOpen(b, c.opt)
			s := benchSession("telegram:1")
			var op int64
			for b.Loop() {
				op++
				if err := commit(db, &s, op); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "updates/s")
		})
	}
}

func BenchmarkCommitParallel(b *testing.B) {
	for _, fill := range []struct {
		name string
		open func(b *testing.B, opt Options) (*DB, []string)
	}{
		{"empty", func(b *testing.B, opt Options) (*DB, []string) {
			keys := make([]string, conversations)
			for i := range keys {
				keys[i] = fmt.Sprintf("telegram:%d", 1_000_000+i)
			}
			return mustOpen(b, opt), keys
		}},
		{"prefilled-100k", func(b *testing.B, opt Options) (*DB, []string) {
			path := prefilledCopy(b)
			keys := make([]string, conversations)
			for i := range keys { // spread over the stored sessions
				keys[i] = prefillKey(i * prefillSessions / conversations)
			}
			return mustOpenPath(b, path, opt), keys
		}},
	} {
		for _, c := range benchConfigs {
			b.Run(fill.name+"/"+c.name, func(b *testing.B) {
				db, keys := fill.open(b, c.opt)
				commitParallel(b, db, keys)
			})
		}
	}
}

// commitParallel runs b.N commits from one goroutine per key and reports
// throughput and commit latency.
func commitParallel(b *testing.B, db *DB, keys []string) {
	sessions := make([]bot.Session, len(keys))
	for g, key := range keys {
		sessions[g] = benchSession(key)
	}
	storetest.Parallel(b, len(keys), "updates", func(g int, op int64) error {
		return commit(db, &sessions[g], op)
	})
}

// prefillSessions is how many sessions the prefilled file holds.
const prefillSessions = 100_000

// prefill is a database file with prefillSessions sessions, built once per
// test binary by prefilledCopy and removed by TestMain.
var prefill struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if prefill.dir != "" {
		os.RemoveAll(prefill.dir)
	}
	os.Exit(code)
}

// prefillKey returns the key of the i-th prefilled session; keys sort in
// numeric order.
func prefillKey(i int) string { return fmt.Sprintf("telegram:%d", 2_000_000+i) }

// prefilledCopy returns a fresh copy of the prefilled file in b's temporary
// directory.
func prefilledCopy(b *testing.B) string {
	b.Helper()
	prefill.once.Do(func() {
		prefill.dir, prefill.err = os.MkdirTemp("", "store-bench-")
		if prefill.err == nil {
			prefill.path = filepath.Join(prefill.dir, "prefilled.db")
			prefill.err = buildPrefill(prefill.path)
		}
	})
	if prefill.err != nil {
		b.Fatal(prefill.err)
	}
	dst := filepath.Join(b.TempDir(), "store.db")
	if err := copyFile(dst, prefill.path); err != nil {
		b.Fatal(err)
	}
	return dst
}

// buildPrefill writes prefillSessions sessions to a new file at path, in
// key order, a few large transactions without fsync.
func buildPrefill(path string) error {
	db, err := Open(path, Options{Key: testKey, NoSync: true})
	if err != nil {
		return err
	}
	defer db.Close()
	const perTx = 25_000
	for start := 0; start < prefillSessions; start += perTx {
		err := db.bolt.Update(func(tx *bbolt.Tx) error {
			bk := tx.Bucket(bucketSessions)
			bk.FillPercent = 0.9 // keys arrive in order
			for i := start; i < start+perTx; i++ {
				key := prefillKey(i)
				s := benchSession(key)
				s.Version = bot.SchemaVersion
				s.Token = db.codec.seal(key, s.Token)
				v, err := json.Marshal(s)
				if err != nil {
					return err
				}
				if err := bk.Put([]byte(key), v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return db.bolt.Sync()
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	// Flush the copy now, or the benchmark's first fsync pays for it.
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// BenchmarkCommitChats runs durable commits in the default Batch mode (as
// cmd/supportbot opens the store) from 20 and 200 conversations at once,
// next to store/etcd's BenchmarkCommitParallel on a 3-member cluster.
func BenchmarkCommitChats(b *testing.B) {
	for _, chats := range []int{20, 200} {
		b.Run(fmt.Sprintf("chats-%d", chats), func(b *testing.B) {
			keys := make([]string, chats)
			for i := range keys {
				keys[i] = fmt.Sprintf("telegram:%d", 1_000_000+i)
			}
			commitParallel(b, mustOpen(b, Options{Batch: true}), keys)
		})
	}
}
