package demo

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"supportbot/portal"
)

// Generated customers (Options.ExtraCustomers). Customer i, 1 ≤ i ≤ N, is
// built the first time anything refers to it, always the same way:
//
//	ID        C-X<i:05d>; a Hebrew name when i is even, English when odd
//	email     user<i>@demo.example, password demo-pass-<i>
//	orders    SB-7<i:05d> (delivered) and SB-8<i:05d> (shipped, in transit)
//	plan      P-X<i:05d>, number +97253<i:07d>

// Names of generated customers: even indexes get Hebrew names, odd ones
// English names.
var extraNames = [2][2][]string{
	{{"אורי", "תמר", "נעמה", "איתי", "שירה", "עומר", "מיכל"}, {"כהן", "אברהם", "פרידמן", "שפירא", "ביטון"}},
	{{"Emily", "David", "Jacob", "Rachel", "Daniel", "Hannah", "Ethan"}, {"Miller", "Brown", "Davis", "Wilson", "Klein"}},
}

// extraIndex returns i when s is "<prefix><i><suffix>" with 1 ≤ i ≤ the
// configured number of extra customers.
func (s *Server) extraIndex(v, prefix, suffix string) (int, bool) {
	if !strings.HasPrefix(v, prefix) || !strings.HasSuffix(v, suffix) || len(v) <= len(prefix)+len(suffix) {
		return 0, false
	}
	digits := v[len(prefix) : len(v)-len(suffix)]
	i, err := strconv.Atoi(digits)
	if err != nil || i < 1 || i > s.extra || digits[0] == '+' || digits[0] == '-' {
		return 0, false
	}
	return i, true
}

// materialize builds extra customer i unless it exists.
func (s *Server) materialize(i int) {
	id := fmt.Sprintf("C-X%05d", i)
	if _, ok := s.customers[id]; ok {
		return
	}
	names := extraNames[i%2]
	first, last := names[0][i/2%len(names[0])], names[1][i/2/len(names[0])%len(names[1])]
	lang := portal.LangHebrew
	if i%2 == 1 {
		lang = portal.LangEnglish
	}
	c := &customer{Customer: portal.Customer{ID: id, Name: first + " " + last,
		Email: fmt.Sprintf("user%d@demo.example", i), Phone: fmt.Sprintf("+97250%07d", i), Lang: lang},
		password: fmt.Sprintf("demo-pass-%d", i)}
	home := portal.Address{ID: "A-1", Name: c.Name, Line1: fmt.Sprintf("Rothschild Blvd %d", 1+i%150), City: "Tel Aviv-Yafo",
		PostalCode: fmt.Sprintf("65%05d", i%100000), Country: "IL", DefaultBilling: true, DefaultShipping: true}
	c.addresses = []*portal.Address{&home}

	base := time.Date(2026, time.September, 1, 8, 0, 0, 0, time.UTC)
	older := base.Add(time.Duration(i%40) * 24 * time.Hour).Add(time.Duration(i%9) * time.Hour)
	newer := time.Date(2026, time.November, 5, 9, 0, 0, 0, time.UTC).Add(time.Duration(i%48) * time.Hour)
	carriers := []portal.Carrier{portal.CarrierDHL, portal.CarrierUPS, portal.CarrierFedEx}
	cr := carriers[i%len(carriers)]
	c.orders = []*portal.Order{
		order(fmt.Sprintf("SB-8%05d", i), newer, portal.OrderShipped, c.Email, home,
			[]line{{"HOTSPOT-RENT", 1}, {"SHIP-EXP-IL", 1}},
			shipment(fmt.Sprintf("SH-8%05d-1", i), cr, 800000+i, newer.Add(6*time.Hour),
				leg{0, portal.ShipmentLabelCreated, "Ashdod, IL"},
				leg{20 * time.Hour, portal.ShipmentPickedUp, "Ashdod, IL"},
				leg{30 * time.Hour, portal.ShipmentInTransit, "Ben Gurion Airport Hub, Lod, IL"})),
		order(fmt.Sprintf("SB-7%05d", i), older, portal.OrderDelivered, c.Email, home,
			[]line{{"SIM-IL-UNL", 1}},
			domestic(fmt.Sprintf("SH-7%05d-1", i), 700000+i, older.Add(2*time.Hour), "Tel Aviv-Yafo, IL", portal.ShipmentDelivered)),
	}
	start := portal.DateOf(older).AddDays(3)
	c.plans = []*plan{{
		Plan: portal.Plan{ID: fmt.Sprintf("P-X%05d", i), Name: "Israel Unlimited", Number: fmt.Sprintf("+97253%07d", i),
			Country: portal.CountryIL, ICCID: withLuhn(fmt.Sprintf("8997253%011d", i)),
			StartDate: start, EndDate: start.AddDays(179), Status: portal.PlanActive,
			Voicemail: portal.Voicemail{Enabled: i%2 == 0, Lang: lang}},
		usage: portal.Usage{PeriodStart: day("2026-11-01"), PeriodEnd: day("2026-11-30"),
			Minutes: i * 7 % 600, DataMB: i * 37 % 40000, DataLimitMB: 102400, SMS: i % 90},
	}}
	s.add(c)
}

// customerByEmail finds a customer by email, case-insensitively.
func (s *Server) customerByEmail(email string) *customer {
	email = strings.ToLower(strings.TrimSpace(email))
	if i, ok := s.extraIndex(email, "user", "@demo.example"); ok {
		s.materialize(i)
	}
	return s.customers[s.byEmail[email]]
}

// orderByID finds an order by number, case-insensitively, with its owner.
func (s *Server) orderByID(id string) (*portal.Order, *customer) {
	id = strings.ToUpper(strings.TrimSpace(id))
	for _, p := range []string{"SB-7", "SB-8"} {
		if i, ok := s.extraIndex(id, p, ""); ok && len(id) == len(p)+5 {
			s.materialize(i)
		}
	}
	o := s.orders[id]
	if o == nil {
		return nil, nil
	}
	return o, s.customers[s.orderOwner[id]]
}
