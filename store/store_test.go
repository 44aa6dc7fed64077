package store

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.etcd.io/bbolt"

	"supportbot/bot"
)

// testKey is a fixed token key, so a test can reopen a file.
var testKey, _ = hex.DecodeString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")

// t0 is the fake clock's time.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// modes are the two ways Commit can write; tests that take a mode must give
// the same results in both.
var modes = []struct {
	name string
	opt  Options
}{
	{"update", Options{}},
	{"batch", Options{Batch: true}},
}

// mustOpen opens a DB in a new temporary directory, closed when the test
// ends. Zero fields of opt get the test key and the fake clock.
func mustOpen(t testing.TB, opt Options) *DB {
	t.Helper()
	return mustOpenPath(t, filepath.Join(t.TempDir(), "store.db"), opt)
}

// mustOpenPath is mustOpen for a given file.
func mustOpenPath(t testing.TB, path string, opt Options) *DB {
	t.Helper()
	if opt.Key == nil {
		opt.Key = testKey
	}
	if opt.Now == nil {
		opt.Now = func() time.Time { return t0 }
	}
	db, err := Open(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

// reopen closes db and opens its file again with opt.
func reopen(t testing.TB, db *DB, opt Options) *DB {
	t.Helper()
	path := db.bolt.Path()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return mustOpenPath(t, path, opt)
}

// fullSession returns a session using every field.
func fullSession(key string) bot.Session {
	return bot.Session{
		Key:  key,
		Lang: "he",
		Stack: []bot.Frame{
			{Flow: "main", State: "menu"},
			{
				Flow:     "order_status",
				State:    "show_status",
				History:  []string{"ask_order", "confirm"},
				Vars:     map[string]string{"order_id": "A-1001", "note": "שלום"},
				Attempts: 2,
				Pages:    map[string]int{"pick_order": 2},
			},
		},
		Token:       "portal-secret-token-0123456789",
		Secrets:     map[string]string{"current": "held-password-current-42"},
		SecretsFlow: "profile",
		Customer:    "Dana Levi",
		Email:       "dana@example.com",
		LoginFails:  1,
		LockedUntil: time.Date(2025, 3, 1, 14, 30, 0, 123456789, time.FixedZone("IST", 2*3600)),
		Updated:     t0.Add(-time.Minute),
	}
}

func reply(text string) bot.Reply {
	return bot.Reply{Text: text, Buttons: [][]bot.Button{{{Label: "Yes", Data: "yes"}, {Label: "No", Data: "no"}}}}
}

// stored returns s as Load returns it after Commit.
func stored(s bot.Session) bot.Session {
	s.Version = bot.SchemaVersion
	if s.Updated.IsZero() {
		s.Updated = t0
	}
	return s
}

func mustLoad(t *testing.T, db *DB, key string) (bot.Session, bool) {
	t.Helper()
	s, ok, err := db.Load(context.Background(), key)
	if err != nil {
		t.Fatalf("Load(%q): %v", key, err)
	}
	return s, ok
}

func mustPending(t *testing.T, db *DB, limit int) []bot.Envelope {
	t.Helper()
	var got []bot.Envelope
	for _, ch := range []string{"console", "slack", "telegram"} {
		envs, err := db.Pending(context.Background(), ch, 0, 0)
		if err != nil {
			t.Fatalf("Pending(%s): %v", ch, err)
		}
		got = append(got, envs...)
	}
	slices.SortFunc(got, func(a, b bot.Envelope) int { return int(a.ID) - int(b.ID) })
	if limit > 0 && len(got) > limit {
		got = got[:limit]
	}
	return got
}

func TestCommit(t *testing.T) {
	a, b := fullSession("telegram:1"), fullSession("telegram:2")
	a2 := a
	a2.Lang, a2.Stack = "en", nil
	noTime := bot.Session{Key: "console:x"}
	slack := bot.Session{Key: "slack:1", Updated: t0}

	type step struct {
		commit  bot.Commit
		want    []bot.Envelope
		wantErr error
	}
	tests := []struct {
		name         string
		steps        []step
		wantSessions map[string]*bot.Session // nil: not stored
		wantPending  []bot.Envelope
	}{
		{
			name: "replies get increasing ids across commits",
			steps: []step{
				{
					commit: bot.Commit{Session: a, UpdateID: 1, Lang: "he", Replies: []bot.Reply{reply("one"), {Text: "two"}}},
					want: []bot.Envelope{
						{ID: 1, Key: "telegram:1", Lang: "he", Reply: reply("one")},
						{ID: 2, Key: "telegram:1", Lang: "he", Reply: bot.Reply{Text: "two"}},
					},
				},
				{
					commit: bot.Commit{Session: b, UpdateID: 2, Lang: "en", Replies: []bot.Reply{{EditID: 9, Text: "three"}}},
					want:   []bot.Envelope{{ID: 3, Key: "telegram:2", Lang: "en", Reply: bot.Reply{EditID: 9, Text: "three"}}},
				},
			},
			wantSessions: map[string]*bot.Session{"telegram:1": ptr(stored(a)), "telegram:2": ptr(stored(b))},
			wantPending: []bot.Envelope{
				{ID: 1, Key: "telegram:1", Lang: "he", Reply: reply("one")},
				{ID: 2, Key: "telegram:1", Lang: "he", Reply: bot.Reply{Text: "two"}},
				{ID: 3, Key: "telegram:2", Lang: "en", Reply: bot.Reply{EditID: 9, Text: "three"}},
			},
		},
		{
			name: "duplicate update id writes nothing",
			steps: []step{
				{
					commit: bot.Commit{Session: a, UpdateID: 7, Replies: []bot.Reply{{Text: "first"}}},
					want:   []bot.Envelope{{ID: 1, Key: "telegram:1", Reply: bot.Reply{Text: "first"}}},
				},
				{
					commit:  bot.Commit{Session: a2, UpdateID: 7, Replies: []bot.Reply{{Text: "again"}}},
					wantErr: bot.ErrDuplicate,
				},
				{
					// Another session on the same channel: same id, same answer.
					commit:  bot.Commit{Session: b, UpdateID: 7, Replies: []bot.Reply{{Text: "other"}}},
					wantErr: bot.ErrDuplicate,
				},
			},
			wantSessions: map[string]*bot.Session{"telegram:1": ptr(stored(a)), "telegram:2": nil},
			wantPending:  []bot.Envelope{{ID: 1, Key: "telegram:1", Reply: bot.Reply{Text: "first"}}},
		},
		{
			name: "update ids are per channel",
			steps: []step{
				{commit: bot.Commit{Session: a, UpdateID: 5}},
				{commit: bot.Commit{Session: slack, UpdateID: 5, Replies: []bot.Reply{{Text: "hi"}}},
					want: []bot.Envelope{{ID: 1, Key: "slack:1", Reply: bot.Reply{Text: "hi"}}}},
			},
			wantSessions: map[string]*bot.Session{"telegram:1": ptr(stored(a)), "slack:1": ptr(stored(slack))},
			wantPending:  []bot.Envelope{{ID: 1, Key: "slack:1", Reply: bot.Reply{Text: "hi"}}},
		},
		{
			name: "zero update id is never a duplicate",
			steps: []step{
				{commit: bot.Commit{Session: a}},
				{commit: bot.Commit{Session: a2}},
			},
			wantSessions: map[string]*bot.Session{"telegram:1": ptr(stored(a2))},
		},
		{
			name:         "zero Updated gets the clock's time",
			steps:        []step{{commit: bot.Commit{Session: noTime, UpdateID: 3}}},
			wantSessions: map[string]*bot.Session{"console:x": ptr(stored(noTime))},
		},
	}
	for _, mode := range modes {
		for _, tt := range tests {
			t.Run(mode.name+"/"+tt.name, func(t *testing.T) {
				db := mustOpen(t, mode.opt)
				ctx := context.Background()
				for i, st := range tt.steps {
					got, err := db.Commit(ctx, st.commit)
					if !errors.Is(err, st.wantErr) || (err != nil && st.wantErr == nil) {
						t.Fatalf("step %d: Commit error = %v, want %v", i, err, st.wantErr)
					}
					if diff := cmp.Diff(st.want, got); diff != "" {
						t.Errorf("step %d: Commit envelopes (-want +got):\n%s", i, diff)
					}
				}
				for key, want := range tt.wantSessions {
					got, ok := mustLoad(t, db, key)
					if ok != (want != nil) {
						t.Fatalf("Load(%q) ok = %t, want %t", key, ok, want != nil)
					}
					if want == nil {
						continue
					}
					if diff := cmp.Diff(*want, got); diff != "" {
						t.Errorf("Load(%q) (-want +got):\n%s", key, diff)
					}
				}
				if diff := cmp.Diff(tt.wantPending, mustPending(t, db, 0)); diff != "" {
					t.Errorf("Pending (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestCommitRejectsKeyWithoutChannel(t *testing.T) {
	db := mustOpen(t, Options{})
	for _, key := range []string{"", ":42"} {
		if _, err := db.Commit(context.Background(), bot.Commit{Session: bot.Session{Key: key}}); err == nil {
			t.Errorf("Commit with key %q: no error", key)
		}
	}
}

func TestCanceledContext(t *testing.T) {
	db := mustOpen(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.Commit(ctx, bot.Commit{Session: fullSession("telegram:1")}); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit error = %v, want context.Canceled", err)
	}
	if _, _, err := db.Load(ctx, "telegram:1"); !errors.Is(err, context.Canceled) {
		t.Errorf("Load error = %v, want context.Canceled", err)
	}
}

func TestLoadMissing(t *testing.T) {
	db := mustOpen(t, Options{})
	got, ok := mustLoad(t, db, "telegram:404")
	if ok {
		t.Errorf("Load of a missing key: ok = true, session %+v", got)
	}
}

func TestTokenEncryptedAtRest(t *testing.T) {
	db := mustOpen(t, Options{})
	want := fullSession("telegram:1")
	if _, err := db.Commit(context.Background(), bot.Commit{Session: want, UpdateID: 1}); err != nil {
		t.Fatal(err)
	}

	// The stored value holds the sealed token, not the clear one.
	var raw []byte
	if err := db.bolt.View(func(tx *bbolt.Tx) error {
		raw = bytes.Clone(tx.Bucket(bucketSessions).Get([]byte("telegram:1")))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(want.Token)) {
		t.Errorf("stored session contains the clear token: %s", raw)
	}
	if bytes.Contains(raw, []byte(want.Secrets["current"])) {
		t.Errorf("stored session contains a clear held password: %s", raw)
	}
	if !bytes.Contains(raw, []byte(`"token":"enc:v1:`)) {
		t.Errorf("stored session has no sealed token: %s", raw)
	}

	// Nor does anything in the file.
	path := db.bolt.Path()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file, []byte(want.Token)) {
		t.Error("database file contains the clear token")
	}
	if bytes.Contains(file, []byte(want.Secrets["current"])) {
		t.Error("database file contains a clear held password")
	}

	t.Run("same key decrypts", func(t *testing.T) {
		db := mustOpenPath(t, path, Options{})
		got, _ := mustLoad(t, db, "telegram:1")
		if diff := cmp.Diff(stored(want), got); diff != "" {
			t.Errorf("Load (-want +got):\n%s", diff)
		}
	})
	t.Run("wrong key fails", func(t *testing.T) {
		other := bytes.Clone(testKey)
		other[0] ^= 1
		db := mustOpenPath(t, path, Options{Key: other})
		_, _, err := db.Load(context.Background(), "telegram:1")
		if !errors.Is(err, ErrDecrypt) {
			t.Errorf("Load with another key: error = %v, want ErrDecrypt", err)
		}
	})
}

func TestTokenBoundToSessionKey(t *testing.T) {
	db := mustOpen(t, Options{})
	if _, err := db.Commit(context.Background(), bot.Commit{Session: fullSession("telegram:1")}); err != nil {
		t.Fatal(err)
	}
	// Copy the stored value, sealed token and all, to another key.
	if err := db.bolt.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		return b.Put([]byte("telegram:2"), bytes.Clone(b.Get([]byte("telegram:1"))))
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Load(context.Background(), "telegram:2"); !errors.Is(err, ErrDecrypt) {
		t.Errorf("Load of a copied token: error = %v, want ErrDecrypt", err)
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name    string
		value   string
		wantErr error
	}{
		{"newer schema", `{"v":2,"key":"telegram:1"}`, ErrSchemaVersion},
		{"no schema version", `{"key":"telegram:1"}`, ErrSchemaVersion},
		{"clear token", `{"v":1,"key":"telegram:1","token":"plain"}`, ErrDecrypt},
		{"token not base64", `{"v":1,"key":"telegram:1","token":"enc:v1:***"}`, ErrDecrypt},
		{"malformed json", `{"v":1,`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := mustOpen(t, Options{})
			if err := db.bolt.Update(func(tx *bbolt.Tx) error {
				return tx.Bucket(bucketSessions).Put([]byte("telegram:1"), []byte(tt.value))
			}); err != nil {
				t.Fatal(err)
			}
			_, _, err := db.Load(context.Background(), "telegram:1")
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Errorf("Load error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestHandledExpiresByAge: a handled update id is remembered for
// HandledTTL whatever its value — an id lower than every one before (as
// Telegram sends after a week of silence) is still a duplicate when it
// comes again —, then no longer counts, and ExpireHandled deletes it.
func TestHandledExpiresByAge(t *testing.T) {
	const ttl = 7 * 24 * time.Hour
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			var mu sync.Mutex
			now := t0
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
			opt := mode.opt
			opt.Now, opt.HandledTTL = clock, ttl
			db := mustOpen(t, opt)
			ctx := context.Background()
			commit := func(key string, id int64) error {
				t.Helper()
				_, err := db.Commit(ctx, bot.Commit{Session: bot.Session{Key: key}, UpdateID: id})
				if err != nil && !errors.Is(err, bot.ErrDuplicate) {
					t.Fatalf("Commit(%s, %d): %v", key, id, err)
				}
				return err
			}
			handled := func(key string, ids ...int64) []bool {
				t.Helper()
				var got []bool
				for _, id := range ids {
					ok, err := db.Handled(ctx, key, id)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, ok)
				}
				return got
			}
			keys := func() int {
				t.Helper()
				n := 0
				if err := db.bolt.View(func(tx *bbolt.Tx) error {
					return tx.Bucket(bucketHandled).ForEachBucket(func(k []byte) error {
						n += tx.Bucket(bucketHandled).Bucket(k).Stats().KeyN
						return nil
					})
				}); err != nil {
					t.Fatal(err)
				}
				return n
			}

			for id := int64(900_000_001); id <= 900_000_004; id++ {
				if err := commit("telegram:1", id); err != nil {
					t.Fatalf("Commit(%d) = %v, want it committed", id, err)
				}
			}
			advance(time.Hour)
			// Ids below the lowest handled one, as after Telegram starts afresh.
			for _, id := range []int64{5, 3} {
				if err := commit("telegram:1", id); err != nil {
					t.Fatalf("Commit(%d) = %v, want it committed", id, err)
				}
				if err := commit("telegram:1", id); !errors.Is(err, bot.ErrDuplicate) {
					t.Errorf("Commit(%d) again = %v, want ErrDuplicate", id, err)
				}
			}
			if err := commit("slack:1", 5); err != nil {
				t.Errorf("Commit(slack 5) = %v, want it committed: channels are apart", err)
			}
			ids := []int64{3, 4, 5, 900_000_001, 900_000_004}
			if diff := cmp.Diff([]bool{true, false, true, true, true}, handled("telegram:1", ids...)); diff != "" {
				t.Errorf("Handled(3, 4, 5, 900000001, 900000004) an hour on (-want +got):\n%s", diff)
			}

			// A second before the first ids are a week old: all remembered.
			advance(ttl - time.Hour - time.Second)
			if diff := cmp.Diff([]bool{true, false, true, true, true}, handled("telegram:1", ids...)); diff != "" {
				t.Errorf("Handled a second short of the TTL (-want +got):\n%s", diff)
			}
			if n, err := db.ExpireHandled(ctx); err != nil || n != 0 {
				t.Errorf("ExpireHandled a second short of the TTL = %d, %v; want 0", n, err)
			}
			if err := commit("telegram:1", 900_000_002); !errors.Is(err, bot.ErrDuplicate) {
				t.Errorf("Commit(900000002) a second short of the TTL = %v, want ErrDuplicate", err)
			}

			// A week after the first commits: those expired, even before a
			// sweep, and the one committed an hour later not yet.
			advance(time.Second)
			if diff := cmp.Diff([]bool{true, false, true, false, false}, handled("telegram:1", ids...)); diff != "" {
				t.Errorf("Handled at the TTL (-want +got):\n%s", diff)
			}
			// An expired id is new again and takes a new stamp.
			if err := commit("telegram:1", 900_000_001); err != nil {
				t.Errorf("Commit(900000001) after the TTL = %v, want it committed", err)
			}
			if n, err := db.ExpireHandled(ctx); err != nil || n != 3 {
				t.Errorf("ExpireHandled at the TTL = %d, %v; want 3 (900000002…900000004)", n, err)
			}
			if got := keys(); got != 4 {
				t.Errorf("%d handled ids stored after the sweep, want 4 (telegram 3, 5, 900000001; slack 5)", got)
			}
			advance(time.Hour)
			if n, err := db.ExpireHandled(ctx); err != nil || n != 3 {
				t.Errorf("ExpireHandled an hour later = %d, %v; want 3 (telegram 3, 5; slack 5)", n, err)
			}
			if diff := cmp.Diff([]bool{false, false, false, true, false}, handled("telegram:1", ids...)); diff != "" {
				t.Errorf("Handled after the second sweep (-want +got):\n%s", diff)
			}
			if got := keys(); got != 1 {
				t.Errorf("%d handled ids stored after the second sweep, want 1", got)
			}
		})
	}
}

// TestExpireHandledInChunks: a sweep over more ids than one transaction
// looks at deletes every expired one and keeps the rest.
func TestExpireHandledInChunks(t *testing.T) {
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	db := mustOpen(t, Options{Now: clock, HandledTTL: time.Hour, NoSync: true})
	// Every third id is an hour younger than the others.
	const n = 2*sweepChunk + 10
	if err := db.bolt.Update(func(tx *bbolt.Tx) error {
		hb, err := tx.Bucket(bucketHandled).CreateBucket([]byte("telegram"))
		if err != nil {
			return err
		}
		for id := uint64(1); id <= n; id++ {
			at := t0
			if id%3 == 0 {
				at = t0.Add(time.Hour)
			}
			if err := hb.Put(itob(id), itob(uint64(at.Unix()))); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = t0.Add(time.Hour + time.Minute)
	mu.Unlock()
	got, err := db.ExpireHandled(context.Background())
	if want := n - n/3; err != nil || got != want {
		t.Errorf("ExpireHandled = %d, %v; want %d", got, err, want)
	}
	for _, id := range []int64{1, 3, sweepChunk, sweepChunk + 2, n - 1, n} {
		ok, err := db.Handled(context.Background(), "telegram:1", id)
		if err != nil {
			t.Fatal(err)
		}
		if want := id%3 == 0; ok != want {
			t.Errorf("Handled(%d) = %t, want %t", id, ok, want)
		}
	}
}

func TestOutboxSurvivesRestart(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			db := mustOpen(t, mode.opt)
			ctx := context.Background()
			commit := func(db *DB, id int64, texts ...string) {
				t.Helper()
				var rs []bot.Reply
				for _, s := range texts {
					rs = append(rs, bot.Reply{Text: s})
				}
				if _, err := db.Commit(ctx, bot.Commit{Session: fullSession("telegram:1"), UpdateID: id, Lang: "en", Replies: rs}); err != nil {
					t.Fatal(err)
				}
			}
			env := func(id uint64, text string) bot.Envelope {
				return bot.Envelope{ID: id, Key: "telegram:1", Lang: "en", Reply: bot.Reply{Text: text}}
			}
			commit(db, 1, "a", "b")
			commit(db, 2, "c")

			if diff := cmp.Diff([]bot.Envelope{env(1, "a"), env(2, "b")}, mustPending(t, db, 2)); diff != "" {
				t.Errorf("Pending(2) (-want +got):\n%s", diff)
			}
			if err := db.Delivered(ctx, 1, 99); err != nil {
				t.Fatal(err)
			}

			db = reopen(t, db, mode.opt)
			if diff := cmp.Diff([]bot.Envelope{env(2, "b"), env(3, "c")}, mustPending(t, db, 0)); diff != "" {
				t.Errorf("Pending after restart (-want +got):\n%s", diff)
			}
			if err := db.Delivered(ctx, 2, 3); err != nil {
				t.Fatal(err)
			}
			if got := mustPending(t, db, 0); len(got) != 0 {
				t.Errorf("Pending after delivering all = %v, want none", got)
			}

			// IDs are never reused, even with an empty outbox after a restart.
			db = reopen(t, db, mode.opt)
			commit(db, 3, "d")
			if diff := cmp.Diff([]bot.Envelope{env(4, "d")}, mustPending(t, db, 0)); diff != "" {
				t.Errorf("Pending after another restart (-want +got):\n%s", diff)
			}
			// Handled ids survive too.
			if ok, err := db.Handled(ctx, "telegram:1", 1); err != nil || !ok {
				t.Errorf("Handled(1) after restart = %t, %v; want true", ok, err)
			}
		})
	}
}

func TestConcurrentCommits(t *testing.T) {
	const n = 50
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			db := mustOpen(t, mode.opt)
			ctx := context.Background()

			// Goroutines 2k and 2k+1 commit update id k+1 and then n/2+k+1,
			// each to its own conversation: every id is committed twice at
			// about the same time, and exactly one must win. In Batch mode
			// the loser's ErrDuplicate makes bbolt rerun the rest of its
			// batch, which checks that Commit's fn is idempotent.
			type result struct {
				envs []bot.Envelope
				dups int
				last string // Vars["update"] of the last session committed
				err  error
			}
			results := make([]result, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					r := &results[i]
					key := fmt.Sprintf("telegram:%d", i)
					for _, id := range []int64{int64(i/2 + 1), int64(n/2 + i/2 + 1)} {
						s := fullSession(key)
						s.Stack[1].Vars["update"] = fmt.Sprint(id)
						envs, err := db.Commit(ctx, bot.Commit{
							Session:  s,
							UpdateID: id,
							Replies:  []bot.Reply{reply(fmt.Sprint(id)), {Text: key}},
						})
						switch {
						case errors.Is(err, bot.ErrDuplicate):
							r.dups++
						case err != nil:
							r.err = err
							return
						default:
							r.last = s.Stack[1].Vars["update"]
						}
						r.envs = append(r.envs, envs...)
					}
				})
			}
			wg.Wait()

			var committed []bot.Envelope
			dups, sessions := 0, 0
			for i, r := range results {
				if r.err != nil {
					t.Fatalf("goroutine %d: %v", i, r.err)
				}
				committed = append(committed, r.envs...)
				dups += r.dups
				if r.dups < 2 {
					sessions++ // it committed at least once
				}
				got := ""
				if s, ok := mustLoad(t, db, fmt.Sprintf("telegram:%d", i)); ok {
					got = s.Top().Vars["update"]
				}
				if got != r.last {
					t.Errorf("session %d holds update %q, want the last committed, %q", i, got, r.last)
				}
			}
			if dups != n {
				t.Errorf("%d duplicates, want %d", dups, n)
			}
			slices.SortFunc(committed, func(a, b bot.Envelope) int { return int(a.ID) - int(b.ID) })
			if diff := cmp.Diff(committed, mustPending(t, db, 0)); diff != "" {
				t.Errorf("Pending differs from the envelopes Commit returned (-returned +pending):\n%s", diff)
			}
			for i, e := range committed {
				if e.ID != uint64(i+1) {
					t.Fatalf("envelope %d has ID %d; want IDs 1…%d without gaps", i, e.ID, 2*n)
				}
			}
			if len(committed) != 2*n {
				t.Errorf("%d envelopes, want %d", len(committed), 2*n)
			}
			for id := int64(1); id <= n; id++ {
				if ok, err := db.Handled(ctx, "telegram:0", id); err != nil || !ok {
					t.Errorf("Handled(%d) = %t, %v; want true", id, ok, err)
				}
			}
			gotSessions, gotOutbox, err := db.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if gotSessions != sessions || gotOutbox != 2*n {
				t.Errorf("Stats() = %d sessions, %d envelopes; want %d, %d", gotSessions, gotOutbox, sessions, 2*n)
			}
		})
	}
}

func TestExpire(t *testing.T) {
	db := mustOpen(t, Options{})
	ctx := context.Background()
	ages := map[string]time.Duration{
		"telegram:1": 48 * time.Hour,
		"telegram:2": 24*time.Hour + time.Nanosecond,
		"telegram:3": 24 * time.Hour, // not before the cut-off
		"slack:1":    time.Hour,
	}
	for key, age := range ages {
		s := fullSession(key)
		s.Updated = t0.Add(-age)
		if _, err := db.Commit(ctx, bot.Commit{Session: s}); err != nil {
			t.Fatal(err)
		}
	}

	n, err := db.Expire(ctx, t0.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("Expire deleted %d sessions, want 2", n)
	}
	got := map[string]bool{}
	for key := range ages {
		_, got[key] = mustLoad(t, db, key)
	}
	want := map[string]bool{"telegram:1": false, "telegram:2": false, "telegram:3": true, "slack:1": true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sessions left (-want +got):\n%s", diff)
	}
	if n, err := db.Expire(ctx, t0.Add(-24*time.Hour)); err != nil || n != 0 {
		t.Errorf("second Expire = %d, %v; want 0, nil", n, err)
	}
}

func TestOpenLocked(t *testing.T) {
	db := mustOpen(t, Options{})
	path := db.bolt.Path()

	_, err := Open(path, Options{Key: testKey, Timeout: 10 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: error = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file %s", err, path)
	}

	// Once the first closes, the file opens.
	reopen(t, db, Options{})
}

func TestOpenNeedsKey(t *testing.T) {
	for _, key := range [][]byte{nil, {}, make([]byte, 16), make([]byte, 33)} {
		path := filepath.Join(t.TempDir(), "store.db")
		if db, err := Open(path, Options{Key: key}); err == nil {
			db.Close()
			t.Errorf("Open with a %d-byte key: no error", len(key))
		}
	}
}
