package flows

import (
	"strings"
	"testing"

	"supportbot/portal"
)

func TestPhoneNumber(t *testing.T) {
	tests := []struct {
		name, in, want, problem string
	}{
		{name: "IL mobile dashes", in: "050-765-4321", want: "+972507654321"},
		{name: "IL mobile in a range the metadata calls unassigned", in: "050-123-4567", want: "+972501234567"},
		{name: "IL plan number P-2003", in: "054-123-4567", want: "+972541234567"},
		{name: "IL mobile digits", in: "0507654321", want: "+972507654321"},
		{name: "IL mobile plus", in: "+972 50-765-4321", want: "+972507654321"},
		{name: "IL mobile brackets", in: "+972 (52) 345-6789", want: "+972523456789"},
		{name: "IL country code no plus", in: "972507654321", want: "+972507654321"},
		{name: "IL landline", in: "04-812-3456", want: "+97248123456"},
		{name: "IL international prefix", in: "00972-50-765-4321", want: "+972507654321"},
		{name: "US brackets", in: "(312) 555-0123", want: "+13125550123"},
		{name: "US dashes", in: "312-555-0123", want: "+13125550123"},
		{name: "US plus", in: "+1 312 555 0123", want: "+13125550123"},
		{name: "US with 1", in: "1-312-555-0123", want: "+13125550123"},
		{name: "US dots", in: "312.555.0123", want: "+13125550123"},
		{name: "US area code 972", in: "972-555-0123", want: "+19725550123"},
		{name: "UK plus", in: "+44 20 7946 0958", want: "+442079460958"},
		{name: "surrounding spaces", in: "  0507654321\n", want: "+972507654321"},

		{name: "empty", in: "", problem: "common.input.empty"},
		{name: "blank", in: " \t ", problem: "common.input.empty"},
		{name: "too long", in: strings.Repeat("0", 41), problem: "common.input.too_long"},
		{name: "latin letters", in: "050-CALL-NOW", problem: "forwarding.ask_number.letters"},
		{name: "hebrew letters", in: "טלפון 0507654321", problem: "forwarding.ask_number.letters"},
		{name: "extension", in: "+1 312 555 0123 ext 5", problem: "forwarding.ask_number.letters"},
		{name: "plus in the middle", in: "050+1234567", problem: "forwarding.ask_number.invalid"},
		{name: "other symbols", in: "050#1234567", problem: "forwarding.ask_number.invalid"},
		{name: "only separators", in: "+ -().", problem: "forwarding.ask_number.invalid"},
		{name: "IL too short", in: "050-765-432", problem: "forwarding.ask_number.invalid"},
		{name: "IL too long", in: "050-765-43210", problem: "forwarding.ask_number.invalid"},
		{name: "US bad area code", in: "(012) 555-0123", problem: "forwarding.ask_number.invalid"},
		{name: "9 digits, no rule", in: "501234567", problem: "forwarding.ask_number.invalid"},
		{name: "11 digits not 1", in: "23125550123", problem: "forwarding.ask_number.invalid"},
		{name: "plus unknown country", in: "+999 123 456 789", problem: "forwarding.ask_number.invalid"},
		{name: "plus without country code", in: "+050-123-4567", problem: "forwarding.ask_number.invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problem := phoneNumber(tt.in)
			if got != tt.want || problem != tt.problem {
				t.Errorf("phoneNumber(%q) = %q, %q; want %q, %q", tt.in, got, problem, tt.want, tt.problem)
			}
		})
	}
}

func TestICCID(t *testing.T) {
	tests := []struct {
		name, in, want, problem string
	}{
		{name: "19 digits", in: "8997201000000090015", want: "8997201000000090015"},
		{name: "19 digits other", in: "8997201000000090023", want: "8997201000000090023"},
		{name: "20 digits", in: "89012600000000090046", want: "89012600000000090046"},
		{name: "spaces", in: "8997 2010 0000 0090 015", want: "8997201000000090015"},
		{name: "dashes", in: "8901-2600-0000-0009-0046", want: "89012600000000090046"},
		{name: "surrounding spaces", in: "  8997201000000090023\n", want: "8997201000000090023"},

		{name: "empty", in: "", problem: "common.input.empty"},
		{name: "only separators", in: " - - ", problem: "common.input.empty"},
		{name: "letters", in: "8997201000000090O15", problem: "sim.ask_iccid.not_digits"},
		{name: "dots", in: "8997.2010.0000.0090.015", problem: "sim.ask_iccid.not_digits"},
		{name: "too short", in: "899720100000009001", problem: "sim.ask_iccid.too_short"},
		{name: "too long", in: "899720100000000900150", problem: "sim.ask_iccid.too_long"},
		{name: "prefix", in: "9897201000000090015", problem: "sim.ask_iccid.prefix"},
		{name: "checksum", in: "8997201000000090016", problem: "sim.ask_iccid.checksum"},
		{name: "checksum spaced", in: "8997 2010 0000 0090 016", problem: "sim.ask_iccid.checksum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problem := iccid(tt.in)
			if got != tt.want || problem != tt.problem {
				t.Errorf("iccid(%q) = %q, %q; want %q, %q", tt.in, got, problem, tt.want, tt.problem)
			}
			// The backend must agree: accepted here iff accepted there.
			if err := portal.ValidateICCID(tt.in); (err == nil) != (problem == "") {
				t.Errorf("portal.ValidateICCID(%q) = %v, but iccid problem = %q", tt.in, err, problem)
			}
		})
	}
}
