package flows

import (
	"strings"
	"testing"

	"supportbot/portal"
)

func TestAddressValidators(t *testing.T) {
	long := strings.Repeat("א", maxAddressText+1)
	tests := []struct {
		name    string
		check   func(string) (string, string)
		in      string
		want    string
		problem string
	}{
		{name: "name latin", check: addressName, in: "Noa Peretz", want: "Noa Peretz"},
		{name: "name hebrew, spaces tidied", check: addressName, in: "  נועה   פרץ \n", want: "נועה פרץ"},
		{name: "name care of", check: addressName, in: "Michael Cohen c/o Hilton Tel Aviv", want: "Michael Cohen c/o Hilton Tel Aviv"},
		{name: "name at the limit", check: addressName, in: long[:len(long)-len("א")], want: long[:len(long)-len("א")]},
		{name: "name empty", check: addressName, in: " ", problem: "common.input.empty"},
		{name: "name too long", check: addressName, in: long, problem: "addresses.too_long"},
		{name: "name digits only", check: addressName, in: "12345", problem: "addresses.ask_name.invalid"},

		{name: "street", check: addressStreet, in: "Herzl 12", want: "Herzl 12"},
		{name: "street hebrew", check: addressStreet, in: "רחוב הרצל 12", want: "רחוב הרצל 12"},
		{name: "street number only", check: addressStreet, in: "12", problem: "addresses.ask_line1.invalid"},
		{name: "street empty", check: addressStreet, in: "", problem: "common.input.empty"},
		{name: "street too long", check: addressStreet, in: long, problem: "addresses.too_long"},

		{name: "apartment digits", check: addressText, in: "12B", want: "12B"},
		{name: "apartment too long", check: addressText, in: long, problem: "addresses.too_long"},

		{name: "city", check: addressCity, in: "Tel Aviv-Yafo", want: "Tel Aviv-Yafo"},
		{name: "city digits", check: addressCity, in: "6578412", problem: "addresses.ask_city.invalid"},

		{name: "postal digits", check: postalCode, in: "6578412", want: "6578412"},
		{name: "postal spaces dropped", check: postalCode, in: " 65784 12 ", want: "6578412"},
		{name: "postal zip+4", check: postalCode, in: "10036-1234", want: "10036-1234"},
		{name: "postal empty", check: postalCode, in: "", problem: "common.input.empty"},
		{name: "postal letters", check: postalCode, in: "IL 60606", problem: "addresses.ask_postal.letters"},
		{name: "postal hebrew letters", check: postalCode, in: "מיקוד 6578412", problem: "addresses.ask_postal.letters"},
		{name: "postal symbols", check: postalCode, in: "6578#412", problem: "addresses.ask_postal.invalid"},
		{name: "postal too long", check: postalCode, in: "12345678901", problem: "addresses.ask_postal.invalid"},

		{name: "phone israeli", check: addressPhone, in: "052-765-4321", want: "+972527654321"},
		{name: "phone us", check: addressPhone, in: "(312) 555-0188", want: "+13125550188"},
		{name: "phone letters", check: addressPhone, in: "312-CALL-NOW", problem: "addresses.ask_phone.letters"},
		{name: "phone too short", check: addressPhone, in: "555-0123", problem: "addresses.ask_phone.invalid"},
		{name: "phone empty", check: addressPhone, in: "", problem: "common.input.empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problem := tt.check(tt.in)
			if got != tt.want || problem != tt.problem {
				t.Errorf("%q → %q, %q; want %q, %q", tt.in, got, problem, tt.want, tt.problem)
			}
		})
	}
}

func TestPostalFor(t *testing.T) {
	tests := []struct {
		country, code, want, problem string
	}{
		{countryIL, "6578412", "6578412", ""},
		{countryIL, "34634", "", "addresses.postal.il"},
		{countryIL, "65784123", "", "addresses.postal.il"},
		{countryIL, "10036-1234", "", "addresses.postal.il"},
		{countryIL, "", "", "addresses.postal.il"},
		{countryUS, "10036", "10036", ""},
		{countryUS, "10036-1234", "10036-1234", ""},
		{countryUS, "100361234", "10036-1234", ""},
		{countryUS, "6060", "", "addresses.postal.us"},
		{countryUS, "60606-12", "", "addresses.postal.us"},
		{countryUS, "6578412", "", "addresses.postal.us"},
		{countryUS, "-10036", "", "addresses.postal.us"},
		{"GB", "123", "123", ""}, // no rule for other countries
	}
	for _, tt := range tests {
		got, problem := postalFor(tt.country, tt.code)
		if got != tt.want || problem != tt.problem {
			t.Errorf("postalFor(%s, %q) = %q, %q; want %q, %q", tt.country, tt.code, got, problem, tt.want, tt.problem)
		}
	}
}

func TestRefusedAddress(t *testing.T) {
	tests := []struct {
		field, reason, country, want string
	}{
		{"line1", portal.ReasonRequired, countryIL, "addresses.refused.required"},
		{"name", portal.ReasonTooLong, countryIL, "addresses.too_long"},
		{"postal_code", portal.ReasonInvalidFormat, countryIL, "addresses.postal.il"},
		{"postal_code", portal.ReasonInvalidFormat, countryUS, "addresses.postal.us"},
		{"phone", portal.ReasonInvalidFormat, countryUS, "addresses.ask_phone.invalid"},
		{"country", portal.ReasonInvalidFormat, "", "addresses.refused.invalid"},
	}
	for _, tt := range tests {
		if got := refusedAddress(tt.field, tt.reason, tt.country); got != tt.want {
			t.Errorf("refusedAddress(%s, %s, %s) = %s, want %s", tt.field, tt.reason, tt.country, got, tt.want)
		}
		if addressFixes[tt.field] == "" {
			t.Errorf("no step to fix %s", tt.field)
		}
	}
}
