package portal

import "strings"

// ValidateICCID checks a SIM card number as the backend does, ignoring
// spaces and hyphens: 19 or 20 digits, starting with 89 (telecom), with a
// valid Luhn check digit. It returns nil or an *InvalidError for the field
// "iccid" with ReasonRequired, ReasonInvalidFormat or ReasonChecksum.
func ValidateICCID(s string) error {
	s = CleanICCID(s)
	reason := ""
	switch {
	case s == "":
		reason = ReasonRequired
	case len(s) < 19 || len(s) > 20 || !allDigits(s) || !strings.HasPrefix(s, "89"):
		reason = ReasonInvalidFormat
	case !luhn(s):
		reason = ReasonChecksum
	default:
		return nil
	}
	return &InvalidError{Message: "invalid ICCID", Fields: map[string]string{"iccid": reason}}
}

// CleanICCID returns s without spaces and hyphens.
func CleanICCID(s string) string {
	return strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s))
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// luhn reports whether the last digit of the decimal string s is its Luhn
// check digit.
func luhn(s string) bool {
	sum := 0
	double := false
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}
