package store

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"supportbot/bot"
)

// TestPendingPages pages through the outbox by ID: every undelivered
// envelope once, in ID order, delivered ones skipped.
func TestPendingPages(t *testing.T) {
	db := mustOpen(t, Options{})
	ctx := context.Background()
	for i := range 7 {
		key := "telegram:" + strconv.Itoa(1+i%2)
		if _, err := db.Commit(ctx, bot.Commit{Session: bot.Session{Key: key}, Lang: "en", Replies: []bot.Reply{{Text: strconv.Itoa(i + 1)}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Delivered(ctx, 3); err != nil {
		t.Fatal(err)
	}
	var pages [][]uint64
	var after uint64
	for {
		envs, err := db.Pending(ctx, "telegram", after, 2)
		if err != nil {
			t.Fatalf("Pending(%d, 2): %v", after, err)
		}
		var ids []uint64
		for _, e := range envs {
			if e.Reply.Text != strconv.FormatUint(e.ID, 10) {
				t.Errorf("envelope %d holds %q", e.ID, e.Reply.Text)
			}
			ids = append(ids, e.ID)
		}
		pages = append(pages, ids)
		if len(envs) < 2 {
			break
		}
		after = envs[len(envs)-1].ID
	}
	if diff := cmp.Diff([][]uint64{{1, 2}, {4, 5}, {6, 7}, nil}, pages); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	if got, err := db.Pending(ctx, "telegram", 5, 0); err != nil || len(got) != 2 {
		t.Errorf("Pending(5, 0) = %d envelopes, %v; want 6 and 7", len(got), err)
	}
	if got, err := db.Pending(ctx, "telegram", ^uint64(0), 0); err != nil || len(got) != 0 {
		t.Errorf("Pending(max) = %v, %v; want none", got, err)
	}
}

// TestDeliveredDelay: with Options.DeliveredDelay, Delivered only notes the
// envelopes — Pending no longer returns them — and the next Commit removes
// them in its own transaction; what no commit removed goes after the delay,
// or at Close.
func TestDeliveredDelay(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bot.db")
	ctx := context.Background()
	open := func(delay time.Duration) *DB {
		db, err := Open(path, Options{Key: bytes.Repeat([]byte{3}, 32), DeliveredDelay: delay})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	stored := func(db *DB) int {
		_, n, err := db.Stats()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	db := open(time.Hour) // only a commit or Close removes them
	envs, err := db.Commit(ctx, bot.Commit{Session: bot.Session{Key: "telegram:1"}, Replies: []bot.Reply{{Text: "a"}, {Text: "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Delivered(ctx, envs[0].ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Pending(ctx, "telegram", 0, 0); len(got) != 1 || got[0].ID != envs[1].ID {
		t.Fatalf("Pending after Delivered = %+v, want only %d", got, envs[1].ID)
	}
	if n := stored(db); n != 2 {
		t.Errorf("%d envelopes stored before the next commit, want 2 (removal deferred)", n)
	}
	if _, err := db.Commit(ctx, bot.Commit{Session: bot.Session{Key: "telegram:2"}}); err != nil {
		t.Fatal(err)
	}
	if n := stored(db); n != 1 {
		t.Errorf("%d envelopes stored after the next commit, want 1", n)
	}
	if err := db.Delivered(ctx, envs[1].ID); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open(0)
	defer db.Close()
	if n := stored(db); n != 0 {
		t.Errorf("%d envelopes stored after Close and reopen, want 0 (Close removes the noted ones)", n)
	}

	// Without commits, the delay removes them.
	envs, err = db.Commit(ctx, bot.Commit{Session: bot.Session{Key: "telegram:3"}, Replies: []bot.Reply{{Text: "c"}}})
	if err != nil {
		t.Fatal(err)
	}
	db.delDelay = 10 * time.Millisecond
	if err := db.Delivered(ctx, envs[0].ID); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); stored(db) != 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the delay did not remove the delivered envelope")
		}
	}
}

// TestDeliveredDelaySteadyPace: when the delay runs out, a mark that a
// commit took in the meantime costs nothing, and a younger one waits for
// its own deadline (the next commit usually takes it). Before, the timer
// removed whatever was noted at that moment, so at a steady pace every
// 100 ms brought a write transaction of its own beside the commits.
func TestDeliveredDelaySteadyPace(t *testing.T) {
	ctx := context.Background()
	db, err := Open(filepath.Join(t.TempDir(), "bot.db"), Options{Key: bytes.Repeat([]byte{3}, 32), DeliveredDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	commit := func(chat string) bot.Envelope {
		t.Helper()
		envs, err := db.Commit(ctx, bot.Commit{Session: bot.Session{Key: "telegram:" + chat}, Replies: []bot.Reply{{Text: chat}}})
		if err != nil {
			t.Fatal(err)
		}
		return envs[0]
	}
	writes := func() int {
		st := db.bolt.Stats()
		return int(st.TxStats.GetWrite())
	}

	a := commit("1")
	if err := db.Delivered(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	b := commit("2") // takes a's mark
	if err := db.Delivered(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	before := writes()
	db.delTimeout() // a's deadline: b's mark is young
	if n := writes() - before; n != 0 {
		t.Errorf("the timer wrote %d pages while the only mark left was young, want 0", n)
	}
	if !db.isNoted(b.ID) {
		t.Fatal("b's mark was removed before its delay")
	}
	db.delMu.Lock()
	rearmed := db.delTimer != nil
	db.delIDs[b.ID] = time.Now().Add(-2 * time.Hour) // b's delay has passed
	db.delMu.Unlock()
	if !rearmed {
		t.Error("no timer set for b's deadline")
	}
	db.delTimeout()
	if db.isNoted(b.ID) {
		t.Error("b's mark still noted after its delay")
	}
	if got, err := db.Pending(ctx, "telegram", 0, 0); err != nil || len(got) != 0 {
		t.Errorf("Pending = %+v, %v; want none", got, err)
	}
	_, n, err := db.Stats()
	if err != nil || n != 0 {
		t.Errorf("%d envelopes stored after both delays (%v), want 0", n, err)
	}
}
