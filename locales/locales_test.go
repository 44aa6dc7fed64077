package locales

import (
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"
)

var pluralForms = map[string]bool{"zero": true, "one": true, "two": true, "few": true, "many": true, "other": true}

// flatten returns message ID → plural forms present (nil for a plain message).
func flatten(t *testing.T, name string) map[string][]string {
	t.Helper()
	raw, err := Raw(name)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := toml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	out := map[string][]string{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			id := k
			if prefix != "" {
				id = prefix + "." + k
			}
			sub, ok := v.(map[string]any)
			if !ok {
				out[id] = nil
				continue
			}
			isPlural := len(sub) > 0
			var forms []string
			for f, fv := range sub {
				if _, str := fv.(string); !str || !pluralForms[f] {
					isPlural = false
				}
				forms = append(forms, f)
			}
			if isPlural {
				sort.Strings(forms)
				out[id] = forms
				continue
			}
			walk(id, sub)
		}
	}
	walk("", doc)
	return out
}

func keys(m map[string][]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestSameKeys(t *testing.T) {
	for _, pair := range Pairs {
		en, he := flatten(t, pair[0]), flatten(t, pair[1])
		if diff := cmp.Diff(keys(en), keys(he)); diff != "" {
			t.Errorf("message IDs differ between %s and %s (-en +he):\n%s", pair[0], pair[1], diff)
		}
	}
}

func TestPluralForms(t *testing.T) {
	want := map[string][]string{
		"active.en.toml": {"one", "other"},
		"active.he.toml": {"one", "other", "two"},
		"staff.en.toml":  {"one", "other"},
		"staff.he.toml":  {"one", "other", "two"},
	}
	for file, forms := range want {
		for id, got := range flatten(t, file) {
			if got == nil {
				continue
			}
			if diff := cmp.Diff(forms, got); diff != "" {
				t.Errorf("%s %s: plural forms (-want +got):\n%s", file, id, diff)
			}
		}
	}
}

// TestHebrewStartsRightToLeft checks that no Hebrew message starts with a
// left-to-right letter: Telegram would lay it out left-to-right.
func TestHebrewStartsRightToLeft(t *testing.T) {
	for _, file := range []string{"active.he.toml", "staff.he.toml"} {
		hebrewStartsRightToLeft(t, file)
	}
}

func hebrewStartsRightToLeft(t *testing.T, file string) {
	raw, _ := Raw(file)
	var doc map[string]any
	if err := toml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(string, any)
	walk = func(id string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, sub := range v {
				walk(strings.TrimPrefix(id+"."+k, "."), sub)
			}
		case string:
			for _, r := range v {
				if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' {
					// Names of languages, carriers and templates that begin with data are fine.
					if !strings.HasPrefix(id, "language.name") && !strings.HasPrefix(id, "carrier") {
						t.Errorf("he %s starts with a Latin letter: %q", id, v)
					}
				}
				if r >= 0x0590 && r <= 0x05FF || r == '{' || r >= 'A' {
					return
				}
			}
		}
	}
	walk("", doc)
}

func TestLoad(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, tag := range b.LanguageTags() {
		tags = append(tags, tag.String())
	}
	sort.Strings(tags)
	if diff := cmp.Diff([]string{"en", "he"}, tags); diff != "" {
		t.Errorf("languages (-want +got):\n%s", diff)
	}
}
