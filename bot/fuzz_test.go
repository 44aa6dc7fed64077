package bot_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"supportbot/bot"
)

// FuzzHandle feeds arbitrary text and button data to the engine: it must
// always answer, never fail or panic, and never echo a card number.
// `go test ./bot` runs the seeds; `go test -fuzz FuzzHandle ./bot` explores.
func FuzzHandle(f *testing.F) {
	for _, seed := range []struct{ text, data string }{
		{"/echo", ""}, {"hello", ""}, {"", "echo.ask|e:x"}, {"", "menu|echo"}, {"", "lang|he"},
		{"", "cmd|back"}, {"/start track_", ""}, {"\x00\xff", ""}, {"🧨" + strings.Repeat("א", 300), ""},
		{"", "echo.ask|p:-1"}, {"", "|||"}, {"/", ""}, {"4111 1111 1111 1111", ""},
	} {
		f.Add(seed.text, seed.data)
	}
	db := openDB(f, filepath.Join(f.TempDir(), "f.db"))
	f.Cleanup(func() { db.Close() })
	e := newEngine(f, db)
	var n int64
	f.Fuzz(func(t *testing.T, text, data string) {
		n++
		envs, err := e.Handle(context.Background(), bot.Inbound{Key: "f:1", UpdateID: n, Text: text, Data: data, MessageID: 5})
		if err != nil {
			t.Fatalf("Handle(%q, %q): %v", text, data, err)
		}
		if len(envs) == 0 {
			t.Fatalf("Handle(%q, %q): no reply", text, data)
		}
		for _, env := range envs {
			if strings.Contains(env.Reply.Text, "4111 1111") {
				t.Fatalf("a reply echoes a card number: %q", env.Reply.Text)
			}
		}
	})
}
