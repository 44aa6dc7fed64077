package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"supportbot/bot"
	"supportbot/store"
)

// TestBackup copies the database of a running bot, then of a stopped one:
// each copy opens with store.Open and holds every session written before.
func TestBackup(t *testing.T) {
	clearEnv(t)
	ctx := context.Background()
	dir := t.TempDir()
	m := NewMain()
	m.Config.DataDir = dir
	m.Stdin, m.Stdout, m.Stderr = strings.NewReader(""), io.Discard, io.Discard
	logs := newLogBuffer()
	m.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	var sessions []bot.Session
	for i := range 20 {
		s := bot.Session{Key: fmt.Sprintf("telegram:%d", 100+i), Lang: "he", Token: fmt.Sprintf("portal-token-%d", i), Customer: "Dana Levi"}
		if _, err := m.DB.Commit(ctx, bot.Commit{Session: s, UpdateID: int64(i + 1), Replies: []bot.Reply{{Text: "hi"}}}); err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, s)
	}
	key, err := store.LoadOrCreateKey(filepath.Join(dir, "token.key"))
	if err != nil {
		t.Fatal(err)
	}
	check := func(path string) {
		t.Helper()
		db, err := store.Open(path, store.Options{Key: key})
		if err != nil {
			t.Fatalf("open the copy: %v", err)
		}
		defer db.Close()
		for _, want := range sessions {
			got, ok, err := db.Load(ctx, want.Key)
			if err != nil || !ok {
				t.Errorf("copy: Load(%s) = %v, %v", want.Key, ok, err)
				continue
			}
			if got.Token != want.Token || got.Customer != want.Customer || got.Lang != want.Lang {
				t.Errorf("copy: session %s = %+v, want %+v", want.Key, got, want)
			}
		}
	}

	// The bot holds the file: the copy comes over its socket.
	running := filepath.Join(t.TempDir(), "running.db")
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"backup", "--data-dir", dir, "--to", running}, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Fatalf("backup of the running bot: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "from the running bot") {
		t.Errorf("backup said %q, want it from the running bot", stdout.String())
	}
	logs.waitFor(t, "backup served")
	check(running)

	// Replacing an existing file, with the bot stopped: the file is copied.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, socketName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left after Close: %v", err)
	}
	stdout.Reset()
	if err := run(ctx, []string{"backup", "--data-dir", dir, "--to", running}, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Fatalf("backup of a stopped bot: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "no bot running") {
		t.Errorf("backup said %q, want it from the file", stdout.String())
	}
	check(running)
}

// TestBackupRefuses fails clearly, leaving nothing behind, when another
// program holds the database or there is none, and on a bad command line.
func TestBackupRefuses(t *testing.T) {
	clearEnv(t)
	ctx := context.Background()
	dir, out := t.TempDir(), t.TempDir()
	to := filepath.Join(out, "copy.db")
	backup := func(args ...string) error {
		return run(ctx, append([]string{"backup"}, args...), strings.NewReader(""), io.Discard, io.Discard)
	}

	if err := backup("--data-dir", dir, "--to", to); err == nil || !strings.Contains(err.Error(), "no database") {
		t.Errorf("backup with no database = %v, want a 'no database' error", err)
	}
	key, err := store.LoadOrCreateKey(filepath.Join(dir, "token.key"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(dir, "supportbot.db"), store.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := backup("--data-dir", dir, "--to", to); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("backup of a database held without a socket = %v, want an 'in use' error", err)
	}
	if left, _ := os.ReadDir(out); len(left) > 0 {
		t.Errorf("failed backups left %v", left)
	}

	for _, args := range [][]string{{"--data-dir", dir}, {"--to", to, "extra"}, {"--bogus"}} {
		if err := backup(args...); !errors.Is(err, errUsage) {
			t.Errorf("backup %q = %v, want errUsage", args, err)
		}
	}
	if err := backup("--data-dir", dir, "--to", filepath.Join(dir, "supportbot.db")); err == nil || errors.Is(err, errUsage) {
		t.Errorf("backup onto the database itself = %v, want an error", err)
	}
}
