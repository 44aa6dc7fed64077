package flows

import (
	"strings"

	"supportbot/portal"
)

// iccid accepts a SIM card number (ICCID), typed with or without spaces and
// dashes, and returns its digits. It agrees with portal.ValidateICCID and
// names the first problem found: not digits, too short, too long, a prefix
// other than 89, or a wrong check digit.
func iccid(text string) (value, problem string) {
	s := portal.CleanICCID(text)
	if s == "" {
		return "", "common.input.empty"
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return "", "sim.ask_iccid.not_digits"
		}
	}
	switch {
	case len(s) < 19:
		return "", "sim.ask_iccid.too_short"
	case len(s) > 20:
		return "", "sim.ask_iccid.too_long"
	case !strings.HasPrefix(s, "89"):
		return "", "sim.ask_iccid.prefix"
	case portal.ValidateICCID(s) != nil:
		return "", "sim.ask_iccid.checksum"
	}
	return s, ""
}
