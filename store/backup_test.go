package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"supportbot/bot"
)

// TestBackupWhileCommitting copies the database while other goroutines
// keep committing: the copy verifies, opens with the same key and holds
// every session committed before the copy began, token included.
func TestBackupWhileCommitting(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, Options{Batch: true})
	var before []bot.Session
	for i := range 50 {
		s := fullSession(fmt.Sprintf("telegram:%d", i))
		if _, err := db.Commit(ctx, bot.Commit{Session: s, UpdateID: int64(i + 1), Replies: []bot.Reply{reply("hi")}}); err != nil {
			t.Fatal(err)
		}
		before = append(before, s)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				s := bot.Session{Key: fmt.Sprintf("slack:%d-%d", w, i)}
				if _, err := db.Commit(ctx, bot.Commit{Session: s, Replies: []bot.Reply{reply("busy")}}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	var buf bytes.Buffer
	n, err := db.Backup(ctx, &buf)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if n != int64(buf.Len()) {
		t.Errorf("Backup returned %d, wrote %d bytes", n, buf.Len())
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Verify(path, 0); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	cp := mustOpenPath(t, path, Options{})
	for _, s := range before {
		got, ok := mustLoad(t, cp, s.Key)
		if !ok {
			t.Errorf("copy lacks session %s", s.Key)
			continue
		}
		if diff := cmp.Diff(stored(s), got); diff != "" {
			t.Errorf("session %s in the copy (-want +got):\n%s", s.Key, diff)
		}
	}
	if got := mustPending(t, cp, 0); len(got) < len(before) {
		t.Errorf("copy has %d pending replies, want at least %d", len(got), len(before))
	}
}

// TestCopy copies a closed database file, and refuses one a DB holds.
func TestCopy(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, Options{})
	s := fullSession("telegram:7")
	if _, err := db.Commit(ctx, bot.Commit{Session: s}); err != nil {
		t.Fatal(err)
	}
	path := db.bolt.Path()

	var buf bytes.Buffer
	if _, err := Copy(ctx, path, &buf, 100*time.Millisecond); !errors.Is(err, ErrLocked) {
		t.Fatalf("Copy of an open database = %v, want ErrLocked", err)
	}
	if buf.Len() != 0 {
		t.Errorf("Copy of an open database wrote %d bytes", buf.Len())
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	if _, err := Copy(ctx, path, &buf, 0); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	cpPath := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(cpPath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cp := mustOpenPath(t, cpPath, Options{})
	if got, ok := mustLoad(t, cp, s.Key); !ok || got.Token != s.Token {
		t.Errorf("copy: session %s = %+v, %v; want its token back", s.Key, got, ok)
	}

	if _, err := Copy(ctx, filepath.Join(t.TempDir(), "none.db"), &buf, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Copy of a missing file = %v, want fs.ErrNotExist", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Copy(canceled, path, &buf, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Copy with a canceled context = %v, want context.Canceled", err)
	}
}

// TestVerifyRejectsDamage refuses a truncated copy and a bbolt file that
// is not supportbot's.
func TestVerifyRejectsDamage(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, Options{})
	for i := range 200 {
		if _, err := db.Commit(ctx, bot.Commit{Session: fullSession(fmt.Sprintf("telegram:%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := db.Backup(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	truncated := filepath.Join(dir, "truncated.db")
	if err := os.WriteFile(truncated, buf.Bytes()[:buf.Len()/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Verify(truncated, 0); err == nil {
		t.Error("Verify accepted a truncated copy")
	}
	if err := Verify(filepath.Join(dir, "none.db"), 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Verify of a missing file = %v, want fs.ErrNotExist", err)
	}
}
