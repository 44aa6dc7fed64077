// Package storetest is one conformance suite for every bot.Store of
// supportbot (the bbolt store and the etcd store), so that they cannot
// drift: each store's tests call Run with a Harness that opens it.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"supportbot/bot"
)

// Store is what the suite needs of a store.
type Store interface {
	bot.Store
	Close() error
}

// Harness opens the store under test.
type Harness struct {
	// Open opens the store kept in dir, a directory the suite made for one
	// case, with the clock now, the token key every Open must share and the
	// default handled-id TTL. Opening dir again after Close must see the
	// same data, as after a restart. The test closes what it opens.
	Open func(t *testing.T, dir string, now func() time.Time) Store
	// RawSession returns the bytes stored for the session key in s.
	RawSession func(t *testing.T, s Store, key string) []byte
	// PutRawSession stores raw under the session key in s, bypassing the
	// store's encoding.
	PutRawSession func(t *testing.T, s Store, key string, raw []byte)
	// Replicated says Commit refuses a stale Session.Rev with
	// bot.ErrConflict.
	Replicated bool
	// Sessions is how many sessions the "many sessions" case commits.
	Sessions int
}

// HandledTTL is the handled-id TTL Harness.Open must configure.
const HandledTTL = 7 * 24 * time.Hour

// t0 is the fake clock's start.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a fake clock safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// env is one case's store, reopened on demand.
type env struct {
	t     *testing.T
	h     Harness
	dir   string
	clock *clock
	s     Store
	ctx   context.Context
}

func newEnv(t *testing.T, h Harness) *env {
	e := &env{t: t, h: h, dir: t.TempDir(), clock: &clock{now: t0}, ctx: context.Background()}
	e.s = h.Open(t, e.dir, e.clock.Now)
	t.Cleanup(func() {
		if err := e.s.Close(); err != nil {
			t.Error(err)
		}
	})
	return e
}

// restart closes the store and opens it again.
func (e *env) restart() {
	e.t.Helper()
	if err := e.s.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.s = e.h.Open(e.t, e.dir, e.clock.Now)
}

// load loads key, failing the test on error; it returns the session with
// its Rev, ready for the next Commit.
func (e *env) load(key string) (bot.Session, bool) {
	e.t.Helper()
	s, ok, err := e.s.Load(e.ctx, key)
	if err != nil {
		e.t.Fatalf("Load(%s): %v", key, err)
	}
	if !ok {
		s = bot.Session{Key: key}
	}
	return s, ok
}

// commit loads key, applies change and commits it with update id and the
// replies, and returns the envelopes or the error.
func (e *env) commit(key string, id int64, change func(*bot.Session), replies ...bot.Reply) ([]bot.Envelope, error) {
	e.t.Helper()
	s, _ := e.load(key)
	if change != nil {
		change(&s)
	}
	return e.s.Commit(e.ctx, bot.Commit{Session: s, UpdateID: id, Lang: "en", Replies: replies})
}

func (e *env) mustCommit(key string, id int64, change func(*bot.Session), replies ...bot.Reply) []bot.Envelope {
	e.t.Helper()
	envs, err := e.commit(key, id, change, replies...)
	if err != nil {
		e.t.Fatalf("Commit(%s, update %d): %v", key, id, err)
	}
	return envs
}

// pending pages through channel's outbox, limit at a time.
func (e *env) pending(channel string, limit int) []bot.Envelope {
	e.t.Helper()
	var all []bot.Envelope
	var after uint64
	for {
		envs, err := e.s.Pending(e.ctx, channel, after, limit)
		if err != nil {
			e.t.Fatalf("Pending(%s, %d, %d): %v", channel, after, limit, err)
		}
		if limit > 0 && len(envs) > limit {
			e.t.Fatalf("Pending(%s, %d, %d) returned %d envelopes", channel, after, limit, len(envs))
		}
		all = append(all, envs...)
		if limit <= 0 || len(envs) < limit {
			return all
		}
		after = envs[len(envs)-1].ID
	}
}

func texts(envs []bot.Envelope) []string {
	var out []string
	for _, e := range envs {
		out = append(out, e.Reply.Text)
	}
	return out
}

func ids(envs []bot.Envelope) []uint64 {
	var out []uint64
	for _, e := range envs {
		out = append(out, e.ID)
	}
	return out
}

// checkIncreasing fails unless the IDs strictly increase.
func checkIncreasing(t *testing.T, what string, envs []bot.Envelope) {
	t.Helper()
	for i := 1; i < len(envs); i++ {
		if envs[i].ID <= envs[i-1].ID {
			t.Fatalf("%s: envelope %d has ID %d after %d; want increasing IDs", what, i, envs[i].ID, envs[i-1].ID)
		}
	}
}

func text(s string) bot.Reply { return bot.Reply{Text: s} }

// fullSession returns a session using every persisted field.
func fullSession(key string) bot.Session {
	return bot.Session{
		Key:  key,
		Lang: "he",
		Stack: []bot.Frame{
			{Flow: "main", State: "menu"},
			{Flow: "order_status", State: "show_status", History: []string{"ask_order"},
				Vars: map[string]string{"order_id": "A-1001", "note": "שלום"}, Attempts: 2, Pages: map[string]int{"pick_order": 2}},
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

// ignoreRev leaves out the store's opaque revision.
var ignoreRev = cmpopts.IgnoreFields(bot.Session{}, "Rev")

// Run runs the conformance suite against the store h opens.
func Run(t *testing.T, h Harness) {
	t.Run("RoundTripEncrypted", func(t *testing.T) { roundTrip(t, h) })
	t.Run("Dedupe", func(t *testing.T) { dedupe(t, h) })
	t.Run("Ordering", func(t *testing.T) { ordering(t, h) })
	t.Run("PendingPages", func(t *testing.T) { pendingPages(t, h) })
	t.Run("Delivered", func(t *testing.T) { delivered(t, h) })
	t.Run("HandledExpiresByAge", func(t *testing.T) { handledExpiry(t, h) })
	t.Run("Expire", func(t *testing.T) { expire(t, h) })
	t.Run("Unreadable", func(t *testing.T) { unreadable(t, h) })
	t.Run("Conflict", func(t *testing.T) {
		if !h.Replicated {
			t.Skip("the store does not compare revisions")
		}
		conflict(t, h)
	})
	t.Run("ManySessions", func(t *testing.T) { manySessions(t, h) })
}

func roundTrip(t *testing.T, h Harness) {
	e := newEnv(t, h)
	want := fullSession("telegram:1")
	e.mustCommit("telegram:1", 1, func(s *bot.Session) { *s = want })
	want.Version = bot.SchemaVersion

	raw := h.RawSession(t, e.s, "telegram:1")
	for _, secret := range []string{want.Token, want.Secrets["current"]} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("stored session holds %q in clear", secret)
		}
	}
	if !bytes.Contains(raw, []byte(`"token":"enc:v1:`)) {
		t.Errorf("stored session has no sealed token")
	}
	for _, when := range []string{"", " after restart"} {
		if when != "" {
			e.restart()
		}
		got, ok := e.load("telegram:1")
		if !ok {
			t.Fatalf("Load%s: not found", when)
		}
		if diff := cmp.Diff(want, got, ignoreRev); diff != "" {
			t.Errorf("Load%s (-want +got):\n%s", when, diff)
		}
	}
	if got, ok := e.load("telegram:404"); ok {
		t.Errorf("Load of a missing key = %+v, want none", got)
	}
	// A zero Updated gets the clock's time.
	e.mustCommit("console:x", 0, nil)
	if got, _ := e.load("console:x"); !got.Updated.Equal(t0) {
		t.Errorf("Updated = %v, want the clock's %v", got.Updated, t0)
	}
}

func dedupe(t *testing.T, h Harness) {
	e := newEnv(t, h)
	first := e.mustCommit("telegram:1", 7, func(s *bot.Session) { s.Lang = "he" }, text("first"))
	check := func(when string) {
		t.Helper()
		for _, key := range []string{"telegram:1", "telegram:2"} {
			_, err := e.commit(key, 7, func(s *bot.Session) { s.Lang = "en" }, text("again"))
			if !errors.Is(err, bot.ErrDuplicate) {
				t.Errorf("Commit(%s, 7)%s: error %v, want ErrDuplicate", key, when, err)
			}
		}
		if s, _ := e.load("telegram:1"); s.Lang != "he" {
			t.Errorf("session changed by a duplicate%s: Lang %q", when, s.Lang)
		}
		if _, ok := e.load("telegram:2"); ok {
			t.Errorf("duplicate stored a session%s", when)
		}
		if diff := cmp.Diff(first, e.pending("telegram", 0)); diff != "" {
			t.Errorf("Pending%s (-want +got):\n%s", when, diff)
		}
		if ok, err := e.s.Handled(e.ctx, "telegram:9", 7); err != nil || !ok {
			t.Errorf("Handled(7)%s = %t, %v; want true", when, ok, err)
		}
		if ok, err := e.s.Handled(e.ctx, "slack:1", 7); err != nil || ok {
			t.Errorf("Handled(slack 7)%s = %t, %v; want false: channels are apart", when, ok, err)
		}
	}
	check("")
	e.restart()
	check(" after restart")
	// Zero is never a duplicate.
	e.mustCommit("telegram:1", 0, nil)
	e.mustCommit("telegram:1", 0, nil)
	if ok, err := e.s.Handled(e.ctx, "telegram:1", 0); err != nil || ok {
		t.Errorf("Handled(0) = %t, %v; want false", ok, err)
	}
}

func ordering(t *testing.T, h Harness) {
	e := newEnv(t, h)
	var returned []bot.Envelope
	for i := range 6 {
		key := "telegram:" + strconv.Itoa(1+i%3)
		id := int64(100 + i)
		replies := []bot.Reply{text(fmt.Sprintf("%d-a", i)), text(fmt.Sprintf("%d-b", i))}
		if i == 2 {
			replies = append(replies, bot.Reply{Text: "staff", To: "slack:T-5001", Vars: map[string]string{"ticket": "T-5001"}})
		}
		envs := e.mustCommit(key, id, nil, replies...)
		for j, env := range envs {
			want := key
			if replies[j].To != "" {
				want = replies[j].To
			}
			if env.Key != want || env.Lang != "en" {
				t.Errorf("Commit %d envelope %d: Key %q Lang %q, want %q en", i, j, env.Key, env.Lang, want)
			}
		}
		returned = append(returned, envs...)
	}
	checkIncreasing(t, "Commit", returned)
	var wantTG []bot.Envelope
	for _, env := range returned {
		if env.Key != "slack:T-5001" {
			wantTG = append(wantTG, env)
		}
	}
	check := func(when string) {
		t.Helper()
		if diff := cmp.Diff(wantTG, e.pending("telegram", 0)); diff != "" {
			t.Errorf("Pending(telegram)%s (-want +got):\n%s", when, diff)
		}
		slack := e.pending("slack", 0)
		if len(slack) != 1 || slack[0].Key != "slack:T-5001" || slack[0].Reply.Vars["ticket"] != "T-5001" {
			t.Errorf("Pending(slack)%s = %+v, want the reply addressed to slack:T-5001", when, slack)
		}
		if got := e.pending("console", 0); len(got) != 0 {
			t.Errorf("Pending(console)%s = %v, want none", when, got)
		}
	}
	check("")
	e.restart()
	check(" after restart")
	// IDs keep increasing after a restart, even with the outbox emptied.
	if err := e.s.Delivered(e.ctx, ids(returned)...); err != nil {
		t.Fatal(err)
	}
	e.restart()
	next := e.mustCommit("telegram:1", 200, nil, text("later"))
	if next[0].ID <= returned[len(returned)-1].ID {
		t.Errorf("ID %d after restart, not above the last one, %d", next[0].ID, returned[len(returned)-1].ID)
	}
}

func pendingPages(t *testing.T, h Harness) {
	e := newEnv(t, h)
	var all []bot.Envelope
	n := 0
	for i := range 9 {
		key := "telegram:" + strconv.Itoa(1+i%2)
		var rs []bot.Reply
		for range 1 + i%3 { // commits of 1, 2 and 3 replies
			n++
			rs = append(rs, text(strconv.Itoa(n)))
		}
		all = append(all, e.mustCommit(key, int64(i+1), nil, rs...)...)
	}
	e.mustCommit("slack:1", 1, nil, text("other channel"))
	if err := e.s.Delivered(e.ctx, all[2].ID, all[7].ID); err != nil {
		t.Fatal(err)
	}
	want := slices.Delete(slices.Delete(slices.Clone(all), 7, 8), 2, 3)
	for _, limit := range []int{0, 1, 2, 3, 4, 100} {
		if diff := cmp.Diff(texts(want), texts(e.pending("telegram", limit))); diff != "" {
			t.Errorf("pages of %d (-want +got):\n%s", limit, diff)
		}
	}
	// From the middle of a Commit's envelopes.
	got, err := e.s.Pending(e.ctx, "telegram", all[4].ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(texts(all[5:7]), texts(got)); diff != "" {
		t.Errorf("Pending(after %d, 2) (-want +got):\n%s", all[4].ID, diff)
	}
	if got, err := e.s.Pending(e.ctx, "telegram", ^uint64(0), 0); err != nil || len(got) != 0 {
		t.Errorf("Pending(max) = %v, %v; want none", got, err)
	}
}

func delivered(t *testing.T, h Harness) {
	e := newEnv(t, h)
	var all []bot.Envelope
	for i := range 60 {
		all = append(all, e.mustCommit("telegram:"+strconv.Itoa(i%7), int64(i+1), nil, text("a"), text("b"), text("c"))...)
	}
	keep := map[int]bool{0: true, 5: true, 77: true, 178: true, 179: true}
	var gone []uint64
	var want []bot.Envelope
	for i, env := range all {
		if keep[i] {
			want = append(want, env)
		} else {
			gone = append(gone, env.ID)
		}
	}
	gone = append(gone, all[len(all)-1].ID+1000, 3) // not in the outbox: ignored
	if err := e.s.Delivered(e.ctx, gone...); err != nil {
		t.Fatalf("Delivered(%d ids): %v", len(gone), err)
	}
	if diff := cmp.Diff(want, e.pending("telegram", 0)); diff != "" {
		t.Errorf("Pending after Delivered (-want +got):\n%s", diff)
	}
	if err := e.s.Delivered(e.ctx, gone...); err != nil {
		t.Errorf("Delivered again: %v", err)
	}
	if err := e.s.Delivered(e.ctx); err != nil {
		t.Errorf("Delivered(): %v", err)
	}
	e.restart()
	if diff := cmp.Diff(want, e.pending("telegram", 2)); diff != "" {
		t.Errorf("Pending after restart (-want +got):\n%s", diff)
	}
}

func handledExpiry(t *testing.T, h Harness) {
	e := newEnv(t, h)
	e.mustCommit("telegram:1", 900_000_001, nil)
	e.clock.Advance(time.Hour)
	e.mustCommit("telegram:1", 5, nil) // below every id before, as after Telegram starts afresh
	handled := func(id int64) bool {
		t.Helper()
		ok, err := e.s.Handled(e.ctx, "telegram:1", id)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	e.clock.Advance(HandledTTL - time.Hour - time.Second)
	if !handled(900_000_001) || !handled(5) {
		t.Errorf("ids forgotten a second before their TTL")
	}
	if _, err := e.commit("telegram:1", 900_000_001, nil); !errors.Is(err, bot.ErrDuplicate) {
		t.Errorf("Commit a second before the TTL: %v, want ErrDuplicate", err)
	}
	e.clock.Advance(time.Second)
	if handled(900_000_001) || !handled(5) {
		t.Errorf("Handled at the first id's TTL = %t, %t; want false, true", handled(900_000_001), handled(5))
	}
	// An expired id is new again, and remembered afresh.
	e.mustCommit("telegram:1", 900_000_001, nil, text("again"))
	e.restart()
	if !handled(900_000_001) {
		t.Errorf("id committed again is not remembered")
	}
	if _, err := e.commit("telegram:1", 900_000_001, nil); !errors.Is(err, bot.ErrDuplicate) {
		t.Errorf("Commit of the renewed id: %v, want ErrDuplicate", err)
	}
	e.clock.Advance(time.Hour)
	if handled(5) {
		t.Errorf("id 5 remembered past its TTL")
	}
}

func expire(t *testing.T, h Harness) {
	e := newEnv(t, h)
	ages := map[string]time.Duration{
		"telegram:1": 48 * time.Hour,
		"telegram:2": 24*time.Hour + time.Nanosecond,
		"telegram:3": 24 * time.Hour, // not before the cut-off
		"slack:1":    time.Hour,
	}
	for key, age := range ages {
		e.mustCommit(key, 0, func(s *bot.Session) { *s = fullSession(key); s.Updated = t0.Add(-age) })
	}
	n, err := e.s.Expire(e.ctx, t0.Add(-24*time.Hour))
	if err != nil || n != 2 {
		t.Errorf("Expire = %d, %v; want 2", n, err)
	}
	got := map[string]bool{}
	for key := range ages {
		_, got[key] = e.load(key)
	}
	want := map[string]bool{"telegram:1": false, "telegram:2": false, "telegram:3": true, "slack:1": true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sessions left (-want +got):\n%s", diff)
	}
	if n, err := e.s.Expire(e.ctx, t0.Add(-24*time.Hour)); err != nil || n != 0 {
		t.Errorf("second Expire = %d, %v; want 0", n, err)
	}
}

func unreadable(t *testing.T, h Harness) {
	for _, raw := range []string{`{"v":1,`, `{"v":2,"key":"telegram:1"}`, `{"v":1,"key":"telegram:1","token":"plain"}`} {
		t.Run(raw, func(t *testing.T) {
			e := newEnv(t, h)
			e.mustCommit("telegram:1", 1, nil)
			h.PutRawSession(t, e.s, "telegram:1", []byte(raw))
			got, _, err := e.s.Load(e.ctx, "telegram:1")
			if !errors.Is(err, bot.ErrUnreadable) {
				t.Fatalf("Load error = %v, want ErrUnreadable", err)
			}
			if bytes.Contains([]byte(err.Error()), []byte("plain")) {
				t.Errorf("Load error %q shows the stored value", err)
			}
			// The engine replaces it, keeping the revision it read.
			if _, err := e.s.Commit(e.ctx, bot.Commit{Session: bot.Session{Key: "telegram:1", Rev: got.Rev, Lang: "en"}, UpdateID: 2}); err != nil {
				t.Fatalf("Commit replacing the unreadable session: %v", err)
			}
			if s, ok := e.load("telegram:1"); !ok || s.Lang != "en" {
				t.Errorf("Load after replacing = %+v, %t", s, ok)
			}
		})
	}
}

func conflict(t *testing.T, h Harness) {
	e := newEnv(t, h)
	e.mustCommit("telegram:1", 1, func(s *bot.Session) { s.Lang = "he" }, text("one"))
	stale, _ := e.load("telegram:1")
	e.mustCommit("telegram:1", 2, func(s *bot.Session) { s.Lang = "en" }, text("two"))
	before := e.pending("telegram", 0)
	for _, s := range []bot.Session{stale, {Key: "telegram:1"}} {
		s.Lang = "ar"
		_, err := e.s.Commit(e.ctx, bot.Commit{Session: s, UpdateID: 3, Replies: []bot.Reply{text("three")}})
		if !errors.Is(err, bot.ErrConflict) {
			t.Errorf("Commit at Rev %d: error %v, want ErrConflict", s.Rev, err)
		}
	}
	if s, _ := e.load("telegram:1"); s.Lang != "en" {
		t.Errorf("a refused Commit changed the session: Lang %q", s.Lang)
	}
	if ok, err := e.s.Handled(e.ctx, "telegram:1", 3); err != nil || ok {
		t.Errorf("Handled(3) after a refused Commit = %t, %v; want false", ok, err)
	}
	if diff := cmp.Diff(before, e.pending("telegram", 0)); diff != "" {
		t.Errorf("a refused Commit changed the outbox (-want +got):\n%s", diff)
	}
	// A duplicate is told as such even with a stale revision.
	if _, err := e.s.Commit(e.ctx, bot.Commit{Session: stale, UpdateID: 2}); !errors.Is(err, bot.ErrDuplicate) {
		t.Errorf("stale duplicate: error %v, want ErrDuplicate", err)
	}
	// A new session must not exist yet.
	e.mustCommit("telegram:2", 4, nil)
	if _, err := e.s.Commit(e.ctx, bot.Commit{Session: bot.Session{Key: "telegram:2"}, UpdateID: 5}); !errors.Is(err, bot.ErrConflict) {
		t.Errorf("Commit of a new session over a stored one: error %v, want ErrConflict", err)
	}
}

// manySessions commits h.Sessions sessions from concurrent conversations,
// every tenth with a reply, then checks a few sessions and pages through
// the outbox.
func manySessions(t *testing.T, h Harness) {
	e := newEnv(t, h)
	n := h.Sessions
	const workers = 64
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1))
				if i > n {
					return
				}
				key := fmt.Sprintf("telegram:%d", i)
				s := fullSession(key)
				s.Stack[1].Vars["i"] = strconv.Itoa(i)
				var rs []bot.Reply
				if i%10 == 0 {
					rs = []bot.Reply{text(strconv.Itoa(i))}
				}
				if _, err := e.s.Commit(e.ctx, bot.Commit{Session: s, UpdateID: int64(i), Replies: rs}); err != nil {
					errs[w] = fmt.Errorf("commit %s: %w", key, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d sessions committed in %v", n, time.Since(start).Round(time.Millisecond))
	for _, i := range []int{1, n / 3, n} {
		key := fmt.Sprintf("telegram:%d", i)
		s, ok := e.load(key)
		if !ok || s.Top().Vars["i"] != strconv.Itoa(i) || s.Token != fullSession(key).Token {
			t.Errorf("Load(%s) = %t, vars %v", key, ok, s.Top())
		}
	}
	got := e.pending("telegram", 500)
	if len(got) != n/10 {
		t.Fatalf("Pending holds %d envelopes, want %d", len(got), n/10)
	}
	checkIncreasing(t, "Pending", got)
	seen := map[string]bool{}
	for _, env := range got {
		seen[env.Reply.Text] = true
	}
	if len(seen) != n/10 {
		t.Errorf("Pending holds %d distinct replies, want %d", len(seen), n/10)
	}
}
