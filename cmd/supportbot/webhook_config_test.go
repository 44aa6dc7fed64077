package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestWebhookSettings: a webhook secret or URL without a listen address
// would neither poll nor serve — start-up refuses it, saying what to set;
// an http webhook URL is refused with Telegram's own Bot API and taken with
// a Bot API server of one's own.
func TestWebhookSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		// want is in the error (nil error if empty); absent is not.
		want, absent string
	}{
		{name: "secret alone", args: []string{"--telegram-token", "1:x", "--telegram-webhook-secret", "s3cret"},
			want: "--telegram-webhook-secret without --telegram-webhook-listen", absent: "s3cret"},
		{name: "secret alone, from the environment", env: map[string]string{"TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_WEBHOOK_SECRET": "s3cret"},
			want: "TELEGRAM_WEBHOOK_SECRET without --telegram-webhook-listen (TELEGRAM_WEBHOOK_LISTEN)", absent: "s3cret"},
		{name: "secret and URL, no listen", args: []string{"--telegram-token", "1:x", "--telegram-webhook-secret", "s3cret",
			"--telegram-webhook-url", "https://bot.example.com/hook"},
			want: "--telegram-webhook-url without --telegram-webhook-listen"},
		{name: "http URL, Telegram's Bot API", args: []string{"--telegram-token", "1:x", "--telegram-webhook-secret", "s",
			"--telegram-webhook-listen", "127.0.0.1:0", "--telegram-webhook-url", "http://bot.example.com/hook"},
			want: "--telegram-webhook-url=http://bot.example.com/hook: must be https://"},
		{name: "not a URL", args: []string{"--telegram-token", "1:x", "--telegram-webhook-secret", "s",
			"--telegram-webhook-listen", "127.0.0.1:0", "--telegram-webhook-url", "bot.example.com/hook"},
			want: "--telegram-webhook-url=bot.example.com/hook"},
		{name: "path without a slash", args: []string{"--telegram-token", "1:x", "--telegram-webhook-secret", "s",
			"--telegram-webhook-listen", "127.0.0.1:0", "--telegram-webhook-path", "hook"},
			want: "--telegram-webhook-path=hook: want a path starting with /"},
		{name: "http URL, a local Bot API server", env: map[string]string{"TELEGRAM_API_URL": "http://127.0.0.1:8081"},
			args: []string{"--telegram-token", "1:x", "--telegram-webhook-secret", "s",
				"--telegram-webhook-listen", "127.0.0.1:0", "--telegram-webhook-url", "http://bot:8080/hook"}},
		{name: "listen, secret and path", args: []string{"--telegram-token", "1:x", "--telegram-webhook-secret", "s",
			"--telegram-webhook-listen", "127.0.0.1:0", "--telegram-webhook-path", "/hook"}},
		{name: "polling", args: []string{"--telegram-token", "1:x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := parseFlagsWant(t, tc.env, tc.args, tc.want)
			if err != nil && tc.absent != "" && strings.Contains(err.Error(), tc.absent) {
				t.Errorf("ParseFlags = %q, want it not to hold %q", err, tc.absent)
			}
		})
	}
}

// TestSlackSettings: the staff side needs a bot token, a way to hear Slack
// (Socket Mode or signed HTTP), channels and staff; a Slack setting without
// the bot token would do nothing, so start-up refuses it. Errors never hold
// a secret.
func TestSlackSettings(t *testing.T) {
	socket := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1",
		"SLACK_CHANNELS": "billing=C0BILL,shipping=C0SHIP", "SLACK_STAFF": "U1,U2"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // "" = accepted
	}{
		{"socket mode", socket, ""},
		{"http mode", with(socket, "SLACK_APP_TOKEN", "", "SLACK_SIGNING_SECRET", "sig", "SLACK_LISTEN", "127.0.0.1:0"), ""},
		{"no way to hear Slack", with(socket, "SLACK_APP_TOKEN", ""), "SLACK_APP_TOKEN (Socket Mode), or SLACK_SIGNING_SECRET and SLACK_LISTEN (HTTP)"},
		{"not a bot token", with(socket, "SLACK_BOT_TOKEN", "xapp-oops"), "SLACK_BOT_TOKEN: want a bot token starting xoxb-"},
		{"not an app token", with(socket, "SLACK_APP_TOKEN", "xoxb-oops"), "SLACK_APP_TOKEN: want an app-level token starting xapp-"},
		{"no channels", with(socket, "SLACK_CHANNELS", ""), "map at least one department to a channel"},
		{"bad channels", with(socket, "SLACK_CHANNELS", "billing"), "want department=channel ID pairs"},
		{"no staff", with(socket, "SLACK_STAFF", " , "), "list the Slack user IDs allowed to act"},
		{"app token without bot token", map[string]string{"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_APP_TOKEN without --slack-bot-token (SLACK_BOT_TOKEN)"},
		{"bad listen", with(socket, "SLACK_LISTEN", "nowhere", "SLACK_SIGNING_SECRET", "sig"), "SLACK_LISTEN=nowhere: want host:port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := parseFlagsWant(t, tc.env, nil, tc.want)
			if err != nil && (strings.Contains(err.Error(), "xoxb-1") || strings.Contains(err.Error(), "xapp-1") || strings.Contains(err.Error(), "=sig")) {
				t.Errorf("error holds a secret: %q", err)
			}
		})
	}
}

// parseFlagsWant runs ParseFlags on args (with a fresh data directory)
// under env alone, and checks its error holds want ("" = no error). It
// returns the error for further checks.
func parseFlagsWant(t *testing.T, env map[string]string, args []string, want string) error {
	t.Helper()
	clearEnv(t)
	for k, v := range env {
		t.Setenv(k, v)
	}
	m := NewMain()
	m.Stdout, m.Stderr = &bytes.Buffer{}, &bytes.Buffer{}
	err := m.ParseFlags(append([]string{"--data-dir", t.TempDir()}, args...))
	switch {
	case want == "" && err != nil:
		t.Fatalf("ParseFlags = %v, want no error", err)
	case want == "":
	case err == nil:
		t.Fatalf("ParseFlags = nil, want an error holding %q", want)
	case !strings.Contains(err.Error(), want):
		t.Errorf("ParseFlags = %q, want it to hold %q", err, want)
	}
	return err
}
