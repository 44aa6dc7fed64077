package bot

import (
	"sync"
	"testing"
)

func TestLooksLikeCard(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"4111111111111111", true},
		{"my card is 4111 1111 1111 1111 thanks", true},
		{"4111-1111-1111-1111", true},
		{"4111.1111.1111.1111", true},
		{"card: 4111.1111.1111.1111.", true},
		{"5500.0000.0000.0004 exp 12.27", true},
		{"4111.1111.1111.1112", false},  // fails Luhn
		{"20.3.2027", false},            // a date
		{"192.168.100.200", false},      // an address, too short
		{"4111..1111.1111.1111", false}, // not one grouped number
		{"5500 0000 0000 0004", true},
		{"378282246310005", true},          // Amex, 15 digits
		{"4111111111111112", false},        // fails Luhn
		{"SB-104233", false},               // an order number
		{"+972 52 555 0123", false},        // a phone number
		{"8997201000000000012", false},     // an ICCID
		{"41111111111111111111111", false}, // too long
		{"", false},
		{"שלום 4111111111111111", true},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if got := looksLikeCard(tt.text); got != tt.want {
				t.Errorf("looksLikeCard(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

func TestSplitCommand(t *testing.T) {
	tests := []struct{ text, name, arg string }{
		{"/start", "start", ""},
		{"/start track_SB-104233", "start", "track_SB-104233"},
		{"/Menu@SupportBot", "menu", ""},
		{"hello", "", ""},
		{"/", "", ""},
	}
	for _, tt := range tests {
		name, arg := splitCommand(tt.text)
		if name != tt.name || arg != tt.arg {
			t.Errorf("splitCommand(%q) = %q, %q; want %q, %q", tt.text, name, arg, tt.name, tt.arg)
		}
	}
}

func TestIsolate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SB-104233", fsi + "SB-104233" + pdi},
		{"dana@example.com", fsi + "dana@example.com" + pdi},
		{"דנה לוי", "דנה לוי"},
		{"", ""},
		{fsi + "x" + pdi, fsi + "x" + pdi},
		{"1 × SIM\nשורה\n2 × USB", fsi + "1 × SIM" + pdi + "\nשורה\n" + fsi + "2 × USB" + pdi},
	}
	for _, tt := range tests {
		if got := isolate(tt.in); got != tt.want {
			t.Errorf("isolate(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := rtlStart("SB-1 נשלחה"); got != rlm+"SB-1 נשלחה" {
		t.Errorf("rtlStart did not add RLM: %q", got)
	}
	if got := rtlStart("הזמנה SB-1"); got != "הזמנה SB-1" {
		t.Errorf("rtlStart changed a Hebrew-first message: %q", got)
	}
}

func TestKeyLocksReclaimed(t *testing.T) {
	var k KeyLocks
	var wg sync.WaitGroup
	counter := map[string]*int{"a": new(int), "b": new(int), "c": new(int)}
	for i := 0; i < 50; i++ {
		for _, key := range []string{"a", "b", "c"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				unlock := k.Lock(key)
				*counter[key]++ // guarded by the per-key lock only: the race detector checks it
				unlock()
			}()
		}
	}
	wg.Wait()
	if k.size() != 0 {
		t.Errorf("%d idle locks kept, want 0", k.size())
	}
	for key, n := range counter {
		if *n != 50 {
			t.Errorf("key %s: %d increments, want 50", key, *n)
		}
	}
}

func TestPhraseMatching(t *testing.T) {
	tests := []struct {
		typed, phrase string
		want          bool
	}{
		{"where is my order?", "where is my order", true},
		{"איפה ההזמנה שלי", "איפה הזמנה", true}, // "ההזמנה": the glued article
		{"ולהעביר שיחות", "להעביר שיחות", true}, // a glued "and"
		{"call forwarding please", "forwarding", true},
		{"I want forwarding", "forward", true}, // an English ending
		{"it happened", "apn", false},          // a word, not a substring
		{"my orders", "order history", false},  // the whole phrase, in order
		{"history of order", "order history", false},
		{"מעקבים", "מעקב", false}, // a Hebrew suffix is another word
	}
	for _, tt := range tests {
		if got := matches(words(tt.typed), words(tt.phrase)); got != tt.want {
			t.Errorf("matches(%q, %q) = %v, want %v", tt.typed, tt.phrase, got, tt.want)
		}
	}
}
