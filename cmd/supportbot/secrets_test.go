package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Secrets the tests put in files and settings; none may show in an error.
const (
	fileToken  = "111111:from-a-file_token"
	envToken   = "222222:from-the-environment"
	argvToken  = "333333:on-the-command-line"
	fileSecret = "hook-secret_from_file"
	fileKey    = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
)

// writeFile writes content to a new file named name in dir and returns
// its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSecretsFromFiles: each secret can come from its value or a file,
// named by a flag or its variable. The file's trailing newline is dropped;
// the command line wins over the environment; a value and a file given in
// the same place are an error naming both; a file that cannot be read, is
// empty or holds a bad value is an error naming its setting, never the
// secret. Only a value on the command line is noted for the ps warning.
func TestSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	tokenFile := writeFile(t, dir, "token", fileToken+"\n")
	crlfTokenFile := writeFile(t, dir, "token-crlf", fileToken+"\r\n")
	secretFile := writeFile(t, dir, "secret", fileSecret)
	keyFile := writeFile(t, dir, "key", fileKey+"\n")
	emptyFile := writeFile(t, dir, "empty", "\n")
	badKeyFile := writeFile(t, dir, "bad-key", "not-hex-"+fileSecret+"\n")
	missing := filepath.Join(dir, "missing")
	unreadable := filepath.Join(dir, "a-directory")
	if err := os.Mkdir(unreadable, 0o700); err != nil {
		t.Fatal(err)
	}

	type want struct {
		token, secret, key string
		argv               []string // flags noted for the ps warning
	}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want want
		// errs, if set, must all be named by the error (and no secret).
		errs []string
	}{
		{name: "token file flag", args: []string{"--telegram-token-file", tokenFile},
			want: want{token: fileToken}},
		{name: "token file flag, CRLF", args: []string{"--telegram-token-file=" + crlfTokenFile},
			want: want{token: fileToken}},
		{name: "token file env", env: map[string]string{"TELEGRAM_BOT_TOKEN_FILE": tokenFile},
			want: want{token: fileToken}},
		{name: "token env", env: map[string]string{"TELEGRAM_BOT_TOKEN": envToken},
			want: want{token: envToken}},
		{name: "token flag", args: []string{"--telegram-token", argvToken},
			want: want{token: argvToken, argv: []string{"telegram-token"}}},
		{name: "webhook secret file flag", args: []string{"--telegram-token-file", tokenFile, "--telegram-webhook-secret-file", secretFile, "--telegram-webhook-listen", "127.0.0.1:0"},
			want: want{token: fileToken, secret: fileSecret}},
		{name: "webhook secret file env", env: map[string]string{"TELEGRAM_BOT_TOKEN_FILE": tokenFile, "TELEGRAM_WEBHOOK_SECRET_FILE": secretFile, "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1:0"},
			want: want{token: fileToken, secret: fileSecret}},
		{name: "key file flag", args: []string{"--key-file", keyFile},
			want: want{key: fileKey}},
		{name: "key file env", env: map[string]string{"SUPPORTBOT_KEY_FILE": keyFile},
			want: want{key: fileKey}},
		{name: "key and token flags", args: []string{"--key", fileKey, "--telegram-token", argvToken},
			want: want{token: argvToken, key: fileKey, argv: []string{"key", "telegram-token"}}},
		{name: "file flag wins over env value", args: []string{"--telegram-token-file", tokenFile}, env: map[string]string{"TELEGRAM_BOT_TOKEN": envToken},
			want: want{token: fileToken}},
		{name: "value flag wins over env file", args: []string{"--telegram-token", argvToken}, env: map[string]string{"TELEGRAM_BOT_TOKEN_FILE": tokenFile},
			want: want{token: argvToken, argv: []string{"telegram-token"}}},

		{name: "token and its file flags", args: []string{"--telegram-token", argvToken, "--telegram-token-file", tokenFile},
			errs: []string{"--telegram-token and --telegram-token-file"}},
		{name: "key and its file env", env: map[string]string{"SUPPORTBOT_KEY": fileKey, "SUPPORTBOT_KEY_FILE": keyFile},
			errs: []string{"SUPPORTBOT_KEY and SUPPORTBOT_KEY_FILE"}},
		{name: "webhook secret and its file env", env: map[string]string{"TELEGRAM_WEBHOOK_SECRET": fileSecret, "TELEGRAM_WEBHOOK_SECRET_FILE": secretFile},
			errs: []string{"TELEGRAM_WEBHOOK_SECRET and TELEGRAM_WEBHOOK_SECRET_FILE"}},
		{name: "missing file", args: []string{"--telegram-token-file", missing},
			errs: []string{"--telegram-token-file=" + missing, "no such file"}},
		{name: "unreadable file", env: map[string]string{"SUPPORTBOT_KEY_FILE": unreadable},
			errs: []string{"SUPPORTBOT_KEY_FILE=" + unreadable, "cannot read"}},
		{name: "empty file", args: []string{"--telegram-webhook-secret-file", emptyFile},
			errs: []string{"--telegram-webhook-secret-file=" + emptyFile, "empty"}},
		{name: "bad key in a file", args: []string{"--key-file", badKeyFile},
			errs: []string{"--key-file", "hexadecimal"}},
		{name: "bad key in an env file", env: map[string]string{"SUPPORTBOT_KEY_FILE": badKeyFile},
			errs: []string{"SUPPORTBOT_KEY_FILE", "hexadecimal"}},
		{name: "every problem at once", args: []string{"--key-file", missing, "--telegram-token-file", emptyFile},
			env:  map[string]string{"TELEGRAM_WEBHOOK_SECRET": fileSecret, "TELEGRAM_WEBHOOK_SECRET_FILE": secretFile},
			errs: []string{"--key-file", "--telegram-token-file", "TELEGRAM_WEBHOOK_SECRET_FILE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			m := NewMain()
			m.Stderr = io.Discard
			err := m.ParseFlags(append([]string{"--data-dir", t.TempDir()}, tc.args...))
			if tc.errs != nil {
				if err == nil {
					t.Fatalf("ParseFlags = nil, want an error naming %q", tc.errs)
				}
				for _, s := range tc.errs {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not name %q", err, s)
					}
				}
				for _, secret := range []string{fileToken, envToken, argvToken, fileSecret, fileKey} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error shows a secret: %q", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFlags: %v", err)
			}
			c := m.Config
			got := want{token: c.TelegramToken, secret: c.TelegramWebhookSecret, key: c.Key, argv: c.argvSecrets}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("settings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestArgvSecretsWarning: secrets given as flag values on the command line
// bring one warning at start-up, naming the flags and the alternatives and
// holding no secret; secrets from the environment or files bring none.
func TestArgvSecretsWarning(t *testing.T) {
	dir := t.TempDir()
	tokenFile := writeFile(t, dir, "token", fileToken+"\n")
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want []string // the warning must hold these; nil: no warning
	}{
		{"token and key flags", []string{"--telegram-token", argvToken, "--key", fileKey},
			nil, []string{"ps", "--key, --telegram-token", "--telegram-token-file", "TELEGRAM_BOT_TOKEN_FILE", "--key-file", "SUPPORTBOT_KEY_FILE"}},
		{"key flag", []string{"--key=" + fileKey}, nil, []string{"--key", "SUPPORTBOT_KEY_FILE or SUPPORTBOT_KEY"}},
		{"env", nil, map[string]string{"TELEGRAM_BOT_TOKEN": envToken, "SUPPORTBOT_KEY": fileKey}, nil},
		{"files", []string{"--telegram-token-file", tokenFile}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			logs := newLogBuffer()
			m := NewMain()
			m.Stdin, m.Stdout, m.Stderr = strings.NewReader(""), io.Discard, logs
			m.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			if err := m.ParseFlags(append([]string{"--data-dir", t.TempDir(), "--portal-url", "http://127.0.0.1:1"}, tc.args...)); err != nil {
				t.Fatalf("ParseFlags: %v", err)
			}
			if err := m.Open(context.Background()); err != nil {
				m.Close()
				t.Fatalf("Open: %v", err)
			}
			if err := m.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			var warnings []string
			for _, rec := range logs.records(t) {
				if rec["level"] == "WARN" && strings.Contains(rec["msg"].(string), "command line") {
					line, _ := json.Marshal(rec)
					warnings = append(warnings, string(line))
				}
			}
			if tc.want == nil {
				if len(warnings) != 0 {
					t.Errorf("warned %q, want no warning", warnings)
				}
				return
			}
			if len(warnings) != 1 {
				t.Fatalf("%d warnings %q, want 1", len(warnings), warnings)
			}
			for _, s := range tc.want {
				if !strings.Contains(warnings[0], s) {
					t.Errorf("warning %s lacks %q", warnings[0], s)
				}
			}
			if all := logs.String(); strings.Contains(all, argvToken) || strings.Contains(all, fileKey) {
				t.Errorf("a secret was logged:\n%s", all)
			}
		})
	}
}

// TestShutdownTimeoutSetting: --shutdown-timeout, with
// SUPPORTBOT_SHUTDOWN_TIMEOUT as fallback, default 10s, must be positive.
func TestShutdownTimeoutSetting(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  string
		want time.Duration
		err  string // the error must hold this
	}{
		{"default", nil, "", 10 * time.Second, ""},
		{"flag", []string{"--shutdown-timeout", "3s"}, "", 3 * time.Second, ""},
		{"env", nil, "250ms", 250 * time.Millisecond, ""},
		{"flag wins", []string{"--shutdown-timeout=2s"}, "9s", 2 * time.Second, ""},
		{"bad env", nil, "soon", 0, "SUPPORTBOT_SHUTDOWN_TIMEOUT=soon"},
		{"zero", []string{"--shutdown-timeout", "0s"}, "", 0, "--shutdown-timeout=0s: must be positive"},
		{"negative env", nil, "-1s", 0, "SUPPORTBOT_SHUTDOWN_TIMEOUT=-1s: must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			t.Setenv("SUPPORTBOT_SHUTDOWN_TIMEOUT", tc.env)
			m := NewMain()
			var stderr bytes.Buffer
			m.Stderr = &stderr
			err := m.ParseFlags(append([]string{"--data-dir", t.TempDir()}, tc.args...))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseFlags = %v, want an error holding %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFlags: %v", err)
			}
			if got := m.Config.ShutdownTimeout; got != tc.want {
				t.Errorf("ShutdownTimeout = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestHelpHidesSecrets: -h shows no secret taken from the environment as
// a flag's default.
func TestHelpHidesSecrets(t *testing.T) {
	clearEnv(t)
	t.Setenv("TELEGRAM_BOT_TOKEN", envToken)
	t.Setenv("SUPPORTBOT_KEY", fileKey)
	t.Setenv("TELEGRAM_WEBHOOK_SECRET", fileSecret)
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Fatalf("run -h: %v", err)
	}
	for _, secret := range []string{envToken, fileKey, fileSecret} {
		if strings.Contains(stdout.String()+stderr.String(), secret) {
			t.Errorf("-h shows the secret %q:\n%s", secret, stdout.String())
		}
	}
	if !strings.Contains(stdout.String(), "-telegram-token-file") {
		t.Errorf("-h lacks -telegram-token-file:\n%s", stdout.String())
	}
}
