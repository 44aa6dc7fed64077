package bot

// looksLikeCard reports whether text holds a payment card number: a run of
// 13 to 19 digits, optionally grouped by single spaces, dashes or dots
// (4111.1111.1111.1111), passing the Luhn check. Longer digit runs (ICCIDs
// are 19–20 digits and start with 89) are still checked, so an ICCID that
// passes Luhn is only a card if it is 19 digits or fewer and does not start
// with 89.
func looksLikeCard(text string) bool {
	var digits []byte
	check := func() bool {
		ok := len(digits) >= 13 && len(digits) <= 19 && luhn(digits) &&
			!(digits[0] == '8' && digits[1] == '9') // an ICCID, not a card
		digits = digits[:0]
		return ok
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case (c == ' ' || c == '-' || c == '.') && len(digits) > 0 && i+1 < len(text) && text[i+1] >= '0' && text[i+1] <= '9':
			// a separator inside a grouped number
		default:
			if check() {
				return true
			}
		}
	}
	return check()
}

func luhn(d []byte) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if double {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		double = !double
	}
	return sum%10 == 0
}
