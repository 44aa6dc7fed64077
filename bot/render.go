package bot

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode"

	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// Directional marks used to keep left-to-right fragments in order inside
// Hebrew text (see HEBREW.md).
const (
	fsi = "\u2068" // first-strong isolate
	pdi = "\u2069" // pop directional isolate
	rlm = "\u200f" // right-to-left mark
	lrm = "\u200e" // left-to-right mark
)

// renderedText is a value already localised (by Turn.T): placed in a
// message as it is, not isolated again.
type renderedText string

// render localises one message. A missing message or template field is an
// internal error: it is logged and the message ID is shown instead, and the
// lint tests fail on it.
func (e *Engine) render(lang, id string, data map[string]any, count any) string {
	return e.renderLog(e.log, lang, id, data, count)
}

// renderLog is render logging to log (an update's logger).
func (e *Engine) renderLog(log *slog.Logger, lang, id string, data map[string]any, count any) string {
	s := e.fragmentLog(log, lang, id, data, count)
	if lang == "he" {
		s = rtlLines(rtlStart(s))
	}
	return s
}

// rtlLines starts every line of a Hebrew message that would be laid out
// left to right on Telegram Desktop — which takes each line's direction
// from its first strong character and ignores isolates — with an RLM: a
// line "⁨SB-104233⁩ · 5 בנובמבר", or an item line with no Hebrew word at
// all, would otherwise run left to right there.
func rtlLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if !desktopRTL(l) && strings.ContainsFunc(l, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			lines[i] = rlm + l
		}
	}
	return strings.Join(lines, "\n")
}

func rtlLine(s string) string {
	if desktopRTL(s) || !strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Hebrew, r) }) {
		return s
	}
	return rlm + s
}

// desktopRTL reports whether s's first strong character, with isolates
// ignored as Telegram Desktop ignores them, is right to left.
func desktopRTL(s string) bool {
	for _, r := range s {
		switch {
		case r >= '\u2066' && r <= '\u2069':
			continue
		case r == '\u200f' || unicode.Is(unicode.Hebrew, r) || unicode.Is(unicode.Arabic, r):
			return true
		case r == '\u200e' || unicode.IsLetter(r):
			return false
		}
	}
	return true
}

// fragment localises a message that will be placed inside another one
// (a list line, a status name): no direction mark is added.
func (e *Engine) fragment(lang, id string, data map[string]any, count any) string {
	return e.fragmentLog(e.log, lang, id, data, count)
}

// fragmentLog is fragment logging to log (an update's logger).
func (e *Engine) fragmentLog(log *slog.Logger, lang, id string, data map[string]any, count any) string {
	loc := e.localizers[lang]
	if loc == nil {
		loc = e.localizers[e.defaultLang]
	}
	// Only supported languages are cached (others render the default's
	// text), so the cache stays as small as the bundle.
	plain := len(data) == 0 && count == nil && loc == e.localizers[lang]
	if plain {
		if s, ok := e.plain.Load(staticKey{lang, id}); ok {
			return s.(string)
		}
	}
	rtl := lang == "he"
	var td map[string]any
	if len(data) > 0 {
		td = make(map[string]any, len(data))
		for k, v := range data {
			if s, ok := v.(string); ok && rtl {
				v = isolate(s)
				// Telegram Desktop ignores the isolate: an LRM keeps a
				// number, a +phone or a /command in order there
				// ("+972 52-…" would show as "52-… 972+").
				if v != s && !strings.Contains(s, "\n") && strings.IndexAny(s[:1], "+/0123456789") == 0 {
					v = lrm + v.(string)
				}
			}
			td[k] = v
		}
	}
	s, err := loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: td, PluralCount: count})
	if err == nil && strings.Contains(s, "<no value>") {
		err = errors.New("template field missing")
	}
	if err != nil {
		e.missing(log, lang, id, err)
		if s == "" {
			s = id
		}
		return s
	}
	if plain {
		e.plain.Store(staticKey{lang, id}, s)
	}
	return s
}

func (e *Engine) missing(log *slog.Logger, lang, id string, err error) {
	log.Error("render message", "lang", lang, "msg", id, "err", err)
	if e.onMissing != nil {
		e.onMissing(fmt.Errorf("%s %s: %w", lang, id, err))
	}
}

// isolate wraps a fragment with no right-to-left letters in a first-strong
// isolate so it keeps its order inside Hebrew text.
func isolate(s string) string {
	if s == "" || strings.HasPrefix(s, fsi) {
		return s
	}
	if strings.Contains(s, "\n") { // an isolate ends at a line break: one per line
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			lines[i] = isolate(l)
		}
		return strings.Join(lines, "\n")
	}
	for _, r := range s {
		if unicode.Is(unicode.Hebrew, r) || unicode.Is(unicode.Arabic, r) {
			return s
		}
	}
	return fsi + s + pdi
}

// rtlStart makes sure a Hebrew message's first strong character is
// right-to-left, so Telegram lays it out right-to-left.
func rtlStart(s string) string {
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Hebrew, r) || r == []rune(rlm)[0]:
			return s
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == []rune(fsi)[0]:
			return rlm + s
		}
	}
	return s
}
