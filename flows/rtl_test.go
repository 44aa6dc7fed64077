package flows_test

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/bidi"
	"golang.org/x/tools/txtar"
)

// firstStrongRTL reports whether s, read as Telegram Desktop reads it —
// isolates ignored, embedding marks honoured — starts right to left: its
// first strong character is a Hebrew letter or an RLM.
func firstStrongRTL(s string) bool {
	for _, r := range s {
		switch {
		case r == '\u2066' || r == '\u2067' || r == '\u2068' || r == '\u2069':
			continue // isolates: Desktop does not see them
		case r == '\u200f' || unicode.Is(unicode.Hebrew, r):
			return true
		case r == '\u200e' || unicode.IsLetter(r):
			return false
		}
	}
	return true // no strong character: it takes the paragraph's direction
}

// hebrewLines calls fn with every line of text the bot sent in the Hebrew
// golden transcripts (not the customer's input), and the file it is in.
func hebrewLines(t *testing.T, fn func(file, line string)) {
	t.Helper()
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ar.Files {
			if f.Name != "want.he" {
				continue
			}
			for _, line := range strings.Split(string(f.Data), "\n") {
				if strings.HasPrefix(line, "  ") {
					fn(filepath.Base(file), line)
				}
			}
		}
	}
}

// TestHebrewLinesRightToLeft: every Hebrew line the bot sends, and every
// Hebrew button label, lays out right to left even on Telegram Desktop,
// which takes each line's direction from its first strong character and
// ignores isolates. Lines are read from the Hebrew golden transcripts.
func TestHebrewLinesRightToLeft(t *testing.T) {
	bad := 0
	hebrewLines(t, func(file, line string) {
		var texts []string
		if rest, ok := strings.CutPrefix(line, "    ["); ok && strings.Contains(rest, "] ") {
			// A row of buttons: "[1] label (data)   [2] …".
			for _, cell := range strings.Split(line, "   [") {
				_, label, _ := strings.Cut(cell, "] ")
				if i := strings.LastIndex(label, " ("); i >= 0 {
					label = label[:i]
				}
				texts = append(texts, label)
			}
		} else {
			texts = []string{strings.TrimPrefix(line, "  ")}
		}
		for _, s := range texts {
			if strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Hebrew, r) }) && !firstStrongRTL(s) {
				bad++
				if bad <= 40 {
					t.Errorf("%s: laid out left to right on Desktop: %q", file, s)
				}
			}
		}
	})
	if bad > 40 {
		t.Errorf("… and %d more", bad-40)
	}
}

// ltrToken finds what must read left to right inside Hebrew text: phone
// numbers, order numbers, emails, /commands.
var ltrToken = regexp.MustCompile(`\+\d[\d -]*\d|SB-\d+|[\w.+-]+@[\w-]+(\.[\w-]+)+|/[a-z]+`)

// TestHebrewLeftToRightRunsIntact renders every Hebrew line of the golden
// transcripts through the Unicode bidi algorithm twice — with isolates
// honoured, and with them stripped as Telegram Desktop does — and checks
// each phone number, order number, email and command comes out as one
// left-to-right run, in its own order.
func TestHebrewLeftToRightRunsIntact(t *testing.T) {
	strip := strings.NewReplacer("\u2066", "", "\u2067", "", "\u2068", "", "\u2069", "")
	bad := 0
	hebrewLines(t, func(file, line string) {
		if strings.HasPrefix(line, "    [") {
			return // a row of buttons
		}
		text := strings.TrimPrefix(line, "  ")
		if !strings.ContainsFunc(text, func(r rune) bool { return unicode.Is(unicode.Hebrew, r) }) {
			return
		}
		for model, s := range map[string]string{"isolates": text, "desktop": strip.Replace(text)} {
			var runs []string
			var p bidi.Paragraph
			if _, err := p.SetString(s, bidi.DefaultDirection(bidi.RightToLeft)); err != nil {
				t.Fatal(err)
			}
			o, err := p.Order()
			if err != nil {
				t.Fatalf("%s: bidi order of %q: %v", file, s, err)
			}
			for i := 0; i < o.NumRuns(); i++ {
				if r := o.Run(i); r.Direction() == bidi.LeftToRight {
					runs = append(runs, strip.Replace(strings.ReplaceAll(r.String(), "\u200e", "")))
				}
			}
			for _, tok := range ltrToken.FindAllString(strip.Replace(text), -1) {
				if !slices.ContainsFunc(runs, func(run string) bool { return strings.Contains(run, tok) }) {
					bad++
					if bad <= 30 {
						t.Errorf("%s (%s): %q is not one left-to-right run in %q", file, model, tok, text)
					}
				}
			}
		}
	})
	if bad > 30 {
		t.Errorf("… and %d more", bad-30)
	}
}
