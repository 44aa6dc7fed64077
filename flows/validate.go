package flows

import (
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"
)

// maxInput bounds any typed value; longer text is rejected before parsing.
const maxInput = 254

// email accepts a plain address such as name@example.com.
func email(text string) (string, string) {
	s := strings.TrimSpace(text)
	switch {
	case s == "":
		return "", "common.input.empty"
	case len(s) > maxInput:
		return "", "common.input.too_long"
	}
	for _, r := range s {
		if r >= utf8.RuneSelf {
			return "", "common.email.latin"
		}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
		return "", "common.email.invalid"
	}
	return strings.ToLower(s), ""
}

// password accepts any non-empty text of sane length, as typed.
func password(text string) (string, string) {
	switch {
	case strings.TrimSpace(text) == "":
		return "", "common.input.empty"
	case len(text) > 200:
		return "", "common.input.too_long"
	}
	return text, ""
}

var orderIDPattern = regexp.MustCompile(`^[A-Z]{2}-?[0-9]{4,10}(-[0-9]{1,3})?$`)

// orderID accepts an order number such as SB-104233 (case and a missing
// dash forgiven, a leading # ignored).
func orderID(text string) (string, string) {
	s := strings.ToUpper(strings.TrimPrefix(strings.TrimSpace(text), "#"))
	switch {
	case s == "":
		return "", "common.input.empty"
	case len(s) > 40:
		return "", "order.ask_id.invalid"
	case !orderIDPattern.MatchString(s):
		return "", "order.ask_id.invalid"
	}
	if s[2] != '-' {
		s = s[:2] + "-" + s[2:]
	}
	return s, ""
}
