package store

import (
	"context"
	"strconv"
	"testing"

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
