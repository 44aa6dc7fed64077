package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is everything supportbot reads from flags and the environment.
// Only this package reads the environment.
type Config struct {
	DataDir       string
	Lang          string
	PortalURL     string
	DemoCustomers int
	Key           string
	IdleTimeout   time.Duration
	LogLevel      string

	TelegramToken         string
	TelegramAPIURL        string
	TelegramWebhookListen string
	TelegramWebhookSecret string
	TelegramWebhookURL    string
}

// DefaultConfig returns the configuration of a plain run.
func DefaultConfig() Config {
	return Config{
		DataDir:     "supportbot-data",
		Lang:        "en",
		IdleTimeout: 30 * time.Minute,
		LogLevel:    "warn",
	}
}

// env returns the environment value of name, or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// ParseFlags reads flags, with environment variables as fallbacks, and
// validates the result.
func (m *Main) ParseFlags(args []string) error {
	c := &m.Config
	fs := flag.NewFlagSet("supportbot", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.StringVar(&c.DataDir, "data-dir", env("SUPPORTBOT_DATA_DIR", c.DataDir), "directory for the session database and key file (env SUPPORTBOT_DATA_DIR)")
	fs.StringVar(&c.Lang, "lang", env("SUPPORTBOT_LANG", c.Lang), "default language: en or he (env SUPPORTBOT_LANG)")
	fs.StringVar(&c.PortalURL, "portal-url", env("PORTAL_URL", c.PortalURL), "company backend base URL; empty runs the embedded demo portal (env PORTAL_URL)")
	fs.IntVar(&c.DemoCustomers, "demo-customers", c.DemoCustomers, "generate this many extra demo customers (see README)")
	fs.StringVar(&c.Key, "key", env("SUPPORTBOT_KEY", c.Key), "64 hex chars: key encrypting portal tokens at rest; empty uses <data-dir>/token.key, created on first run (env SUPPORTBOT_KEY)")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", c.IdleTimeout, "end a conversation step left idle this long")
	fs.StringVar(&c.LogLevel, "log-level", env("SUPPORTBOT_LOG_LEVEL", c.LogLevel), "debug, info, warn or error (env SUPPORTBOT_LOG_LEVEL)")
	fs.StringVar(&c.TelegramToken, "telegram-token", env("TELEGRAM_BOT_TOKEN", ""), "Telegram bot token; empty runs the terminal chat (env TELEGRAM_BOT_TOKEN)")
	fs.StringVar(&c.TelegramAPIURL, "telegram-api-url", env("TELEGRAM_API_URL", ""), "Bot API server URL (env TELEGRAM_API_URL)")
	fs.StringVar(&c.TelegramWebhookListen, "telegram-webhook-listen", env("TELEGRAM_WEBHOOK_LISTEN", ""), "host:port to serve the webhook on; empty uses long polling (env TELEGRAM_WEBHOOK_LISTEN)")
	fs.StringVar(&c.TelegramWebhookSecret, "telegram-webhook-secret", env("TELEGRAM_WEBHOOK_SECRET", ""), "webhook secret token, required with a webhook (env TELEGRAM_WEBHOOK_SECRET)")
	fs.StringVar(&c.TelegramWebhookURL, "telegram-webhook-url", env("TELEGRAM_WEBHOOK_URL", ""), "public webhook URL to register with setWebhook (env TELEGRAM_WEBHOOK_URL)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return errUsage
	}
	return c.Validate()
}

// Validate checks the configuration and says what is wrong.
func (c *Config) Validate() error {
	var errs []error
	switch c.Lang {
	case "en", "he":
	default:
		errs = append(errs, fmt.Errorf("--lang %q: want en or he", c.Lang))
	}
	if c.DemoCustomers < 0 {
		errs = append(errs, fmt.Errorf("--demo-customers %d: must not be negative", c.DemoCustomers))
	}
	if c.IdleTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--idle-timeout %s: must be positive", c.IdleTimeout))
	}
	if _, err := c.level(); err != nil {
		errs = append(errs, err)
	}
	if c.TelegramWebhookListen != "" && c.TelegramWebhookSecret == "" {
		errs = append(errs, errors.New("--telegram-webhook-listen needs --telegram-webhook-secret (TELEGRAM_WEBHOOK_SECRET)"))
	}
	if err := writableDir(c.DataDir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (c *Config) level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(c.LogLevel))); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}

// writableDir creates dir if needed and proves it is writable.
func writableDir(dir string) error {
	if dir == "" {
		return errors.New("--data-dir is empty")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data directory %s cannot be created: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("data directory %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

func (c *Config) dbPath() string  { return filepath.Join(c.DataDir, "supportbot.db") }
func (c *Config) keyPath() string { return filepath.Join(c.DataDir, "token.key") }
