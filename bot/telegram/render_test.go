package telegram

import (
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func units(s string) int { return len(utf16.Encode([]rune(s))) }

func TestSplitText(t *testing.T) {
	emoji := "👨‍👩‍👧‍👦" // 11 UTF-16 units, one grapheme
	tests := []struct {
		name string
		text string
		max  int
		rtl  bool
		want []string
	}{
		{"fits", "hello world", 11, false, []string{"hello world"}},
		{"at a line break", "first line\nsecond", 12, false, []string{"first line", "second"}},
		{"line break preferred to space", "aaa bbb\nccc ddd", 12, false, []string{"aaa bbb", "ccc ddd"}},
		{"at a space", "hello wonderful world", 16, false, []string{"hello wonderful", "world"}},
		{"hard cut", "abcdefghij", 4, false, []string{"abcd", "efgh", "ij"}},
		{"surrogate pairs kept whole", "😀😀😀", 3, false, []string{"😀", "😀", "😀"}},
		{"ZWJ sequence kept whole", "ab" + emoji + emoji, 12, false, []string{"ab", emoji, emoji}},
		{"combining mark kept with its letter", "abcde\u0301f", 5, false, []string{"abcd", "e\u0301f"}},
		{"hebrew continuation gets RLM", "שלום עולם\n12345 הזמנה", 11, true, []string{"שלום עולם", "\u200f12345", "הזמנה"}},
		{"hebrew continuation already RTL", "שלום עולם\nהזמנה 12345", 12, true, []string{"שלום עולם", "הזמנה 12345"}},
		{"early space beats a cut word", "a bcdefghijk", 8, false, []string{"a", "bcdefghi", "jk"}},
		{"blank tail dropped", "hello\n\n\n\n\n\n", 6, false, []string{"hello"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := splitText(tc.text, tc.max, tc.rtl)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("splitText(%q, %d) (-want +got):\n%s", tc.text, tc.max, diff)
			}
			for _, p := range got {
				if units(p) > tc.max {
					t.Errorf("part %q has %d units, max %d", p, units(p), tc.max)
				}
				if !utf8.ValidString(p) {
					t.Errorf("part %q is not valid UTF-8", p)
				}
			}
		})
	}
}

func TestSplitTextTelegramLimit(t *testing.T) {
	exact := strings.Repeat("é", 4096)
	if got := splitText(exact, maxTextUnits, false); len(got) != 1 {
		t.Errorf("4096 units split into %d parts", len(got))
	}
	over := strings.Repeat("😀", 2049) // 4098 units
	got := splitText(over, maxTextUnits, false)
	if len(got) != 2 || units(got[0]) != 4096 || units(got[1]) != 2 {
		t.Errorf("parts of %d units: %d parts", units(over), len(got))
	}
}

func TestStripBotName(t *testing.T) {
	for in, want := range map[string]string{
		"/start":                    "/start",
		"/start@support_bot":        "/start",
		"/start@support_bot abc":    "/start abc",
		"/help@Bot\nmore":           "/help\nmore",
		"mail me at a@b.com":        "mail me at a@b.com",
		"/start payload@not-a-name": "/start payload@not-a-name",
	} {
		if got := stripBotName(in); got != want {
			t.Errorf("stripBotName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGCRA(t *testing.T) {
	var g gcra
	now := time.Unix(1000, 0)
	var got []time.Duration
	for range 5 {
		got = append(got, g.reserve(now, time.Second, 3))
	}
	// The last of the burst waits jitterSlack, so arrival jitter cannot
	// push a message past Telegram's own count; the rate stays 1/s.
	want := []time.Duration{0, 0, jitterSlack, time.Second + jitterSlack, 2*time.Second + jitterSlack}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	// After a quiet period the burst is available again.
	if d := g.reserve(now.Add(time.Minute), time.Second, 3); d != 0 {
		t.Errorf("after a minute: wait %v", d)
	}
}

func TestChatOf(t *testing.T) {
	for key, want := range map[string]int64{"telegram:42": 42, "telegram:-100123": -100123} {
		if got, ok := chatOf(key); !ok || got != want {
			t.Errorf("chatOf(%q) = %d, %v", key, got, ok)
		}
	}
	for _, key := range []string{"console:1", "telegram:", "telegram:x"} {
		if _, ok := chatOf(key); ok {
			t.Errorf("chatOf(%q) ok", key)
		}
	}
}
