package flows

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// maxPhone bounds a typed phone number, separators included.
const maxPhone = 40

// phoneNumber accepts a phone number to forward calls to and returns it in
// E.164 form (+972501234567). A number written with a leading + may be of
// any country. Without one, a leading 0 means an Israeli number (050-123-4567,
// 04-812-3456, or 00 and an international number); 10 digits a US number
// ((312) 555-0123); 11 digits starting with 1 a US number with its country
// code (1-312-555-0123); and digits starting with 972 an Israeli number with
// its country code (972501234567). Spaces, dashes, dots and brackets are
// ignored.
func phoneNumber(text string) (value, problem string) {
	s := strings.TrimSpace(text)
	switch {
	case s == "":
		return "", "common.input.empty"
	case utf8.RuneCountInString(s) > maxPhone:
		return "", "common.input.too_long"
	}
	plus := strings.HasPrefix(s, "+")
	var digits strings.Builder
	bad := false
	for _, r := range strings.TrimPrefix(s, "+") {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case strings.ContainsRune(" -().", r):
		case unicode.IsLetter(r):
			return "", "forwarding.ask_number.letters"
		default:
			bad = true // keep looking: letters get their own message
		}
	}
	d := digits.String()
	if bad || d == "" {
		return "", "forwarding.ask_number.invalid"
	}

	number, region := d, "ZZ" // ZZ: unknown region, the number must start with +
	switch {
	case plus:
		number = "+" + d
	case d[0] == '0':
		region = "IL"
	case len(d) == 10:
		region = "US" // before the 972 rule: 972 is also a Dallas area code
	case len(d) == 11 && d[0] == '1':
		region = "US"
	case strings.HasPrefix(d, "972"):
		number = "+" + d
	default:
		return "", "forwarding.ask_number.invalid"
	}
	n, err := phonenumbers.Parse(number, region)
	if err != nil || !(phonenumbers.IsValidNumber(n) || israeliLength(n)) {
		return "", "forwarding.ask_number.invalid"
	}
	return phonenumbers.Format(n, phonenumbers.E164), ""
}

// israeliLength accepts an Israeli number of a possible length even where
// the library's range data says unassigned: Israeli operators reassign
// ranges faster than the metadata follows (050-123-4567 is refused by it).
func israeliLength(n *phonenumbers.PhoneNumber) bool {
	if n.GetCountryCode() != 972 {
		return false
	}
	nsn := phonenumbers.GetNationalSignificantNumber(n)
	switch {
	case nsn == "":
		return false
	case nsn[0] == '5' || nsn[0] == '7': // mobile, VoIP: 05x-xxx-xxxx
		return len(nsn) == 9
	case strings.ContainsRune("23489", rune(nsn[0])): // landlines: 0x-xxx-xxxx
		return len(nsn) == 8
	}
	return false
}
