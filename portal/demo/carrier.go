package demo

import (
	"fmt"
	"net/url"

	"supportbot/portal"
)

// trackingNumber returns a well-formed tracking number of carrier for
// serial, with the carrier's check digit where it has one.
func trackingNumber(c portal.Carrier, serial int) string {
	serial = (serial*48271 + 12345) % 100_000_000 // spread neighbours apart
	switch c {
	case portal.CarrierUPS:
		// 1Z, shipper account, service 03 (ground), 7-digit package, check.
		body := fmt.Sprintf("4V8E2103%07d", serial%10_000_000)
		return "1Z" + body + upsCheck(body)
	case portal.CarrierFedEx:
		body := fmt.Sprintf("77%09d", serial%1_000_000_000)
		return body + mod11Check(body)
	case portal.CarrierUSPS:
		// IMpb: 94 (Priority), 001 channel, 11189922 mailer, serial, check.
		body := fmt.Sprintf("940011189922%09d", serial%1_000_000_000)
		return body + gs1Check(body)
	case portal.CarrierDHL:
		// DHL Express waybill: 9 digits and a mod-7 check digit.
		n := 100_000_000 + serial%900_000_000
		return fmt.Sprintf("%09d%d", n, n%7)
	case portal.CarrierIsraelPost:
		// UPU S10: service RR (registered), 8 digits, check, country.
		body := fmt.Sprintf("%08d", serial%100_000_000)
		return "RR" + body + s10Check(body) + "IL"
	}
	return fmt.Sprint(serial)
}

// trackingURL is the carrier's public tracking page for number.
func trackingURL(c portal.Carrier, number string) string {
	n := url.QueryEscape(number)
	switch c {
	case portal.CarrierUPS:
		return "https://www.ups.com/track?loc=en_US&tracknum=" + n
	case portal.CarrierFedEx:
		return "https://www.fedex.com/fedextrack/?trknbr=" + n
	case portal.CarrierUSPS:
		return "https://tools.usps.com/go/TrackConfirmAction?tLabels=" + n
	case portal.CarrierDHL:
		return "https://www.dhl.com/global-en/home/tracking/tracking-express.html?submit=1&tracking-id=" + n
	case portal.CarrierIsraelPost:
		return "https://israelpost.co.il/en/itemtrace?itemcode=" + n
	}
	return ""
}

// upsCheck is the check digit of the 15 characters after "1Z": letters
// count as (code-63) mod 10, digits in even positions count double.
func upsCheck(s string) string {
	sum := 0
	for i, r := range s {
		v := int(r - '0')
		if r >= 'A' && r <= 'Z' {
			v = (int(r) - 63) % 10
		}
		if i%2 == 1 {
			v *= 2
		}
		sum += v
	}
	return fmt.Sprint((10 - sum%10) % 10)
}

// gs1Check is the GS1 mod-10 check digit (weights 3,1 from the right).
func gs1Check(s string) string {
	sum := 0
	for i := len(s) - 1; i >= 0; i-- {
		w := 1
		if (len(s)-1-i)%2 == 0 {
			w = 3
		}
		sum += int(s[i]-'0') * w
	}
	return fmt.Sprint((10 - sum%10) % 10)
}

// mod11Check is FedEx's check digit (weights 1,3,7 from the right, mod 11,
// 10 counts as 0).
func mod11Check(s string) string {
	weights := [3]int{1, 3, 7}
	sum := 0
	for i := len(s) - 1; i >= 0; i-- {
		sum += int(s[i]-'0') * weights[(len(s)-1-i)%3]
	}
	return fmt.Sprint(sum % 11 % 10)
}

// s10Check is the UPU S10 check digit of 8 digits.
func s10Check(s string) string {
	weights := [8]int{8, 6, 4, 2, 3, 5, 9, 7}
	sum := 0
	for i := range 8 {
		sum += int(s[i]-'0') * weights[i]
	}
	switch c := 11 - sum%11; c {
	case 10:
		return "0"
	case 11:
		return "5"
	default:
		return fmt.Sprint(c)
	}
}

// withLuhn appends the Luhn check digit to the decimal string s.
func withLuhn(s string) string {
	sum := 0
	double := true
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
	return s + fmt.Sprint((10-sum%10)%10)
}
