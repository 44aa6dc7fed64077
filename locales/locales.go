// Package locales embeds the English and Hebrew message files and builds the
// go-i18n bundle the engine renders every user-visible string from.
//
// It imports only embed, go-i18n and its TOML decoder.
package locales

import (
	"embed"
	"fmt"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed *.toml
var files embed.FS

// Files lists the embedded message files: per language, the customers'
// (active) and the support staff's (staff, for Slack).
var Files = []string{"active.en.toml", "active.he.toml", "staff.en.toml", "staff.he.toml"}

// Pairs lists the message files by audience, English first: each pair
// must hold the same message IDs.
var Pairs = [][2]string{{"active.en.toml", "active.he.toml"}, {"staff.en.toml", "staff.he.toml"}}

// Load builds a bundle with English as the default language and every
// embedded message file loaded.
func Load() (*i18n.Bundle, error) {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	for _, f := range Files {
		if _, err := b.LoadMessageFileFS(files, f); err != nil {
			return nil, fmt.Errorf("load %s: %w", f, err)
		}
	}
	return b, nil
}

// Raw returns the bytes of one embedded message file, for lint tests.
func Raw(name string) ([]byte, error) { return files.ReadFile(name) }
