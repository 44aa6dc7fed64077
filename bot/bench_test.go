package bot_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"supportbot/bot"
	"supportbot/store"
)

// BenchmarkHandle is one update through engine + flow + a durable
// (fsync'd) bbolt commit, in a single conversation.
func BenchmarkHandle(b *testing.B) {
	for _, nosync := range []bool{false, true} {
		name := "durable"
		if nosync {
			// Without fsync the time per op is the engine's CPU cost.
			name = "nosync"
		}
		b.Run(name, func(b *testing.B) {
			db, err := store.Open(filepath.Join(b.TempDir(), "b.db"), store.Options{Key: bytes.Repeat([]byte{1}, 32), NoSync: nosync})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			benchHandle(b, newEngine(b, db))
		})
	}
}

func benchHandle(b *testing.B, e *bot.Engine) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		text := "/echo"
		if i%2 == 1 {
			text = "word"
		}
		if _, err := e.Handle(ctx, bot.Inbound{Key: "t:1", UpdateID: int64(i + 1), Text: text}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConcurrent runs 200 conversations at once, each update durable
// before its reply is returned, with plain bbolt transactions, a tuned
// Batch, and (for comparison only) fsync off; and the same on a file
// already holding 100,000 sessions.
func BenchmarkConcurrent(b *testing.B) {
	modes := []struct {
		name string
		opt  store.Options
	}{
		{"update", store.Options{}},
		{"batch", store.Options{Batch: true}},
		{"batch-nosync", store.Options{Batch: true, NoSync: true}},
		{"update-nosync", store.Options{NoSync: true}},
	}
	for _, prefill := range []int{0, 100_000} {
		for _, m := range modes {
			b.Run(fmt.Sprintf("%s/sessions=%d", m.name, prefill), func(b *testing.B) {
				path := filepath.Join(b.TempDir(), "b.db")
				if prefill > 0 {
					copyFile(b, prefilled(b, prefill), path)
				}
				opt := m.opt
				opt.Key = bytes.Repeat([]byte{1}, 32)
				db, err := store.Open(path, opt)
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				e := newEngine(b, db)
				runConcurrent(b, e, 200)
			})
		}
	}
}

func runConcurrent(b *testing.B, e *bot.Engine, chats int) {
	ctx := context.Background()
	var next atomic.Int64
	var chat atomic.Int64
	b.SetParallelism((chats + 1) / 2) // GOMAXPROCS is 2 on the reference machine
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		key := "t:" + strconv.FormatInt(chat.Add(1), 10)
		i := 0
		for pb.Next() {
			text := "/echo"
			if i%2 == 1 {
				text = "word"
			}
			i++
			if _, err := e.Handle(ctx, bot.Inbound{Key: key, UpdateID: next.Add(1), Text: text}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "updates/s")
}

var (
	prefillOnce sync.Map // n → path
)

// prefilled returns a database file holding n sessions, built once per run.
func prefilled(b *testing.B, n int) string {
	if p, ok := prefillOnce.Load(n); ok {
		return p.(string)
	}
	dir, err := os.MkdirTemp("", "supportbot-bench")
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "prefill.db")
	db, err := store.Open(path, store.Options{Key: bytes.Repeat([]byte{1}, 32), NoSync: true, Batch: true, MaxBatchSize: 5000})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := 0; w < 500; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 500 {
				s := bot.Session{Key: "p:" + strconv.Itoa(i), Lang: "he", Token: "tok-" + strconv.Itoa(i), Updated: time.Now(),
					Stack: []bot.Frame{{Flow: "echo", State: "ask", Vars: map[string]string{"order": "SB-100000", "email": "x@example.com"}}}}
				if _, err := db.Commit(ctx, bot.Commit{Session: s}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	prefillOnce.Store(n, path)
	return path
}

func copyFile(b *testing.B, from, to string) {
	data, err := os.ReadFile(from)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		b.Fatal(err)
	}
}
