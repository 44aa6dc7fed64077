package bot

import (
	"context"
	"sort"
	"strings"
	"unicode"
)

// This file matches a request in words ("where is my order", "תא קולי")
// against the phrases each flow declares.

// words splits text into lower-case words of letters and digits.
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// hebrewPrefixes are the one-letter words Hebrew glues to the next word
// (the, in, to, and, that, from, as): "ההזמנה" is "הזמנה" with "the".
const hebrewPrefixes = "הבלוכשמ"

// sameWord reports whether a typed word is the phrase's word, allowing a
// Hebrew word up to two glued prefixes and an English word a short ending
// (orders, forwarding).
func sameWord(typed, want string) bool {
	if typed == want {
		return true
	}
	if rest, ok := strings.CutSuffix(typed, want); ok && rest != "" {
		n := 0
		for _, r := range rest {
			if !strings.ContainsRune(hebrewPrefixes, r) {
				return false
			}
			n++
		}
		return n <= 2
	}
	if rest, ok := strings.CutPrefix(typed, want); ok && len(want) >= 3 {
		return rest == "s" || rest == "es" || rest == "ing" || rest == "ed"
	}
	return false
}

// matches reports whether the phrase's words stand in order, one after
// another, among the typed words.
func matches(typed, phrase []string) bool {
	for i := 0; i+len(phrase) <= len(typed); i++ {
		ok := true
		for j, w := range phrase {
			if !sameWord(typed[i+j], w) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// maxGuesses is how many journeys "Did you mean …?" offers at most.
const maxGuesses = 3

// phrases starts the journey a request in words clearly asks for, or, when
// several could be meant, asks "Did you mean …?" with a button for each.
// It reports false when no journey's phrases match.
func (r *run) phrases(ctx context.Context, text string) (bool, error) {
	typed := words(text)
	if len(typed) == 0 {
		return false, nil
	}
	type hit struct {
		f     *Flow
		score int
	}
	var hits []hit
	for _, f := range r.e.order {
		score := 0
		for _, p := range f.Phrases {
			if pw := words(p); len(pw) > 0 && matches(typed, pw) {
				score += len(pw)
			}
		}
		if score > 0 {
			hits = append(hits, hit{f, score})
		}
	}
	if len(hits) == 0 {
		return false, nil
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].score > hits[j].score })
	if len(hits) == 1 || hits[0].score >= 2*hits[1].score {
		r.drop(EndOtherFlow)
		return true, r.start(ctx, hits[0].f, hits[0].f.Start, nil)
	}
	o := out{id: "common.did_you_mean"}
	for i, h := range hits {
		if i == maxGuesses {
			break
		}
		o.buttons = append(o.buttons, []btn{{label: h.f.Title, data: dataMenu + h.f.Name}})
	}
	o.buttons = append(o.buttons, []btn{{label: "common.btn.menu", data: dataMenu}})
	r.outs = append(r.outs, o)
	return true, nil
}
