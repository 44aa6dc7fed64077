package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"supportbot/bot/telegram"
)

// TestTelegramRates reads --telegram-global-rate and --telegram-chat-rate
// (or TELEGRAM_GLOBAL_RATE and TELEGRAM_CHAT_RATE) into the channel's
// limits, 0 lifting a limit, and rejects values that are not rates.
func TestTelegramRates(t *testing.T) {
	for _, tc := range []struct {
		name       string
		env        map[string]string
		args       []string
		wantGlobal float64
		wantChat   time.Duration
	}{
		{"defaults", nil, nil, 30, time.Second},
		{"env", map[string]string{"TELEGRAM_GLOBAL_RATE": "12", "TELEGRAM_CHAT_RATE": "0.5"}, nil, 12, 2 * time.Second},
		{"flags over env", map[string]string{"TELEGRAM_GLOBAL_RATE": "12"}, []string{"--telegram-global-rate=20", "--telegram-chat-rate", "4"}, 20, 250 * time.Millisecond},
		{"no limits", map[string]string{"TELEGRAM_GLOBAL_RATE": "0"}, []string{"--telegram-chat-rate=0"}, -1, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			t.Setenv("SUPPORTBOT_DATA_DIR", t.TempDir())
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			m := NewMain()
			m.Stdout, m.Stderr = &bytes.Buffer{}, &bytes.Buffer{}
			if err := m.ParseFlags(tc.args); err != nil {
				t.Fatalf("ParseFlags: %v", err)
			}
			var got telegram.Options
			m.TelegramOptions = func(o *telegram.Options) { got = *o }
			m.openTelegram() // fails without a token, after building the options
			if got.GlobalPerSecond != tc.wantGlobal || got.PerChatInterval != tc.wantChat {
				t.Errorf("GlobalPerSecond, PerChatInterval = %v, %v; want %v, %v", got.GlobalPerSecond, got.PerChatInterval, tc.wantGlobal, tc.wantChat)
			}
		})
	}

	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"env not a number", map[string]string{"TELEGRAM_GLOBAL_RATE": "fast"}, nil, "TELEGRAM_GLOBAL_RATE=fast: want a number"},
		{"negative flag", nil, []string{"--telegram-chat-rate=-1"}, "--telegram-chat-rate=-1: want messages a second, 0 or more"},
		{"infinite env", map[string]string{"TELEGRAM_CHAT_RATE": "Inf"}, nil, "TELEGRAM_CHAT_RATE=+Inf: want messages a second"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			t.Setenv("SUPPORTBOT_DATA_DIR", t.TempDir())
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			m := NewMain()
			m.Stdout, m.Stderr = &bytes.Buffer{}, &bytes.Buffer{}
			err := m.ParseFlags(tc.args)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseFlags = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}
