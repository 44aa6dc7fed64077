package demo

import (
	"fmt"
	"strings"
	"time"

	"supportbot/portal"
)

// Epoch is the moment the seeded data describes (9 Nov 2026, noon UTC).
// Tests and transcripts pass a clock at or near it as Options.Now.
func Epoch() time.Time { return time.Date(2026, 11, 9, 12, 0, 0, 0, time.UTC) }

// ts parses a seeded RFC 3339 timestamp.
func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic("demo: bad seeded time " + s) // a typo in the seed
	}
	return t
}

// day parses a seeded date.
func day(s string) portal.Date {
	d, err := portal.ParseDate(s)
	if err != nil {
		panic("demo: bad seeded date " + s) // a typo in the seed
	}
	return d
}

type product struct {
	name     string
	price    int
	currency portal.Currency
}

// catalog is what the seeded orders sell, by SKU.
var catalog = map[string]product{
	"SIM-IL-UNL":      {"Israel Unlimited SIM, monthly", 14900, portal.ILS},
	"SIM-IL-10":       {"Israel 10GB SIM, monthly", 7900, portal.ILS},
	"SIM-US-TT30":     {"USA Talk & Text SIM, 30 days", 16900, portal.ILS},
	"HOTSPOT-RENT":    {"Pocket Wi-Fi hotspot, 30-day rental", 9900, portal.ILS},
	"CHG-USB-C":       {"USB-C wall charger", 4900, portal.ILS},
	"SHIP-EXP-IL":     {"Express delivery", 2900, portal.ILS},
	"SIM-IL-TRV30":    {"Israel Traveler SIM, 30 days", 5900, portal.USD},
	"SIM-IL-TRV14":    {"Israel Traveler SIM, 14 days", 3900, portal.USD},
	"SIM-US-UNL":      {"USA Unlimited SIM, monthly", 4500, portal.USD},
	"HOTSPOT-RENT-US": {"Pocket Wi-Fi hotspot, 30-day rental", 3500, portal.USD},
	"SHIP-EXP-US":     {"Express delivery", 1500, portal.USD},
}

// line is an order line: a SKU and a quantity.
type line struct {
	sku string
	qty int
}

// leg is one tracking event, at an offset from a shipment's start.
type leg struct {
	after  time.Duration
	status portal.ShipmentStatus
	loc    string
}

const (
	hour = time.Hour
	days = 24 * time.Hour
)

// shipment builds a parcel whose status is its last event's.
func shipment(id string, c portal.Carrier, serial int, start time.Time, legs ...leg) portal.Shipment {
	n := trackingNumber(c, serial)
	sh := portal.Shipment{ID: id, Carrier: c, TrackingNumber: n, TrackingURL: trackingURL(c, n), Events: []portal.TrackingEvent{}}
	for _, l := range legs {
		sh.Events = append(sh.Events, portal.TrackingEvent{At: start.Add(l.after), Status: l.status, Location: l.loc})
		sh.Status = l.status
	}
	return sh
}

// domestic is an Israel Post parcel from the warehouse to city, delivered
// two days after start, or stopped at status.
func domestic(id string, serial int, start time.Time, city string, upTo portal.ShipmentStatus) portal.Shipment {
	legs := []leg{
		{4 * hour, portal.ShipmentLabelCreated, "Petah Tikva, IL"},
		{days + 2*hour, portal.ShipmentPickedUp, "Petah Tikva, IL"},
		{days + 9*hour, portal.ShipmentInTransit, "Modi'in Logistics Center, IL"},
		{2*days - 2*hour, portal.ShipmentOutForDelivery, city},
		{2*days + 3*hour, portal.ShipmentDelivered, city},
	}
	for i, l := range legs {
		if l.status == upTo {
			legs = legs[:i+1]
			break
		}
	}
	return shipment(id, portal.CarrierIsraelPost, serial, start, legs...)
}

// order builds an order; its currency is its first item's, its total the
// sum of its lines.
func order(id string, placed time.Time, st portal.OrderStatus, email string, shipTo portal.Address, lines []line, ships ...portal.Shipment) *portal.Order {
	o := &portal.Order{ID: id, PlacedAt: placed, Status: st, Email: email, ShipTo: shipTo,
		Items: []portal.OrderItem{}, Shipments: append([]portal.Shipment{}, ships...)}
	o.ShipTo.ID, o.ShipTo.DefaultBilling, o.ShipTo.DefaultShipping = "", false, false
	for _, l := range lines {
		p, ok := catalog[l.sku]
		if !ok {
			panic("demo: unknown seeded SKU " + l.sku) // a typo in the seed
		}
		o.Items = append(o.Items, portal.OrderItem{SKU: l.sku, Name: p.name, Qty: l.qty, Price: p.price})
		o.Total += l.qty * p.price
		o.Currency = p.currency
	}
	return o
}

// iccid returns a valid SIM number: 19 digits for IL, 20 for US.
func iccid(country portal.Country, serial int) string {
	if country == portal.CountryUS {
		return withLuhn(fmt.Sprintf("8901260%012d", serial))
	}
	return withLuhn(fmt.Sprintf("8997201%011d", serial))
}

// seed loads the hand-written customers, orders, plans and tickets.
func (s *Server) seed() {
	s.departments = []portal.Department{
		{ID: "billing", Name: "Billing and payments", NameHE: "חיובים ותשלומים",
			About:   "Payments, invoices, refunds and unexpected charges",
			AboutHE: "תשלומים, חשבוניות, החזרים וחיובים לא מוכרים"},
		{ID: "technical", Name: "Technical support", NameHE: "תמיכה טכנית",
			About:   "SIM activation, no signal or data, voicemail and APN settings",
			AboutHE: "הפעלת כרטיס SIM, בעיות קליטה וגלישה, תא קולי והגדרות APN"},
		{ID: "shipping", Name: "Shipping and delivery", NameHE: "משלוחים",
			About:   "Tracking a parcel, delivery times and changing the address",
			AboutHE: "מעקב אחר משלוח, זמני מסירה ושינוי כתובת"},
		{ID: "sales", Name: "Sales and new plans", NameHE: "מכירות וחבילות חדשות",
			About:   "New plans, extending a rental, and devices such as hotspots",
			AboutHE: "הצטרפות לחבילה, הארכת השכרה ורכישת מכשירים כמו ראוטר נייד"},
	}
	s.nextTicket = 5003

	// דנה לוי: many orders (pagination), two plans, tickets.
	dana := &customer{Customer: portal.Customer{ID: "C-1001", Name: "דנה לוי", Email: "dana.levi@example.com",
		Phone: "+972523456789", Lang: portal.LangHebrew}, password: "demo-dana"}
	danaHome := portal.Address{ID: "A-1", Name: "דנה לוי", Line1: "רחוב הרצל 12, דירה 4", City: "תל אביב-יפו",
		PostalCode: "6578412", Country: "IL", Phone: "+972523456789", DefaultBilling: true, DefaultShipping: true}
	danaWork := portal.Address{ID: "A-2", Name: "Dana Levi", Line1: "Derech Menachem Begin 132", Line2: "Floor 18",
		City: "Tel Aviv-Yafo", PostalCode: "6701101", Country: "IL"}
	dana.addresses = []*portal.Address{&danaHome, &danaWork}
	dana.emails = []*portal.ExtraEmail{{ID: "E-1", Email: "dana.work@example.com", Notify: portal.Notify{Orders: true, Shipping: true}}}
	dana.orders = []*portal.Order{
		order("SB-104240", ts("2026-11-05T17:42:00Z"), portal.OrderPending, dana.Email, danaHome,
			[]line{{"SIM-US-TT30", 1}, {"SHIP-EXP-IL", 1}}),
		order("SB-104233", ts("2026-11-02T09:15:00Z"), portal.OrderShipped, dana.Email, danaHome,
			[]line{{"SIM-IL-UNL", 1}, {"CHG-USB-C", 2}},
			domestic("SH-104233-1", 104233, ts("2026-11-02T10:00:00Z"), "Tel Aviv-Yafo, IL", portal.ShipmentInTransit)),
		order("SB-104198", ts("2026-10-27T11:03:00Z"), portal.OrderDelivered, dana.Email, danaHome,
			[]line{{"SIM-IL-UNL", 1}, {"HOTSPOT-RENT", 1}, {"SHIP-EXP-IL", 1}},
			domestic("SH-104198-1", 104198, ts("2026-10-27T12:00:00Z"), "Tel Aviv-Yafo, IL", portal.ShipmentDelivered),
			shipment("SH-104198-2", portal.CarrierDHL, 104198, ts("2026-10-27T16:00:00Z"),
				leg{0, portal.ShipmentLabelCreated, "Ashdod, IL"},
				leg{18 * hour, portal.ShipmentPickedUp, "Ashdod, IL"},
				leg{30 * hour, portal.ShipmentInTransit, "Ben Gurion Airport Hub, Lod, IL"},
				leg{2*days + 15*hour + 45*time.Minute, portal.ShipmentOutForDelivery, "Tel Aviv-Yafo, IL"},
				leg{2*days + 20*hour + 20*time.Minute, portal.ShipmentDelivered, "Tel Aviv-Yafo, IL"})),
		order("SB-104150", ts("2026-10-12T08:20:00Z"), portal.OrderCancelled, dana.Email, danaWork,
			[]line{{"HOTSPOT-RENT", 1}}),
	}
	history := []line{{"SIM-IL-UNL", 1}, {"CHG-USB-C", 1}, {"HOTSPOT-RENT", 1}, {"SIM-IL-10", 2}, {"SIM-US-TT30", 1}}
	for k := range 10 {
		placed := time.Date(2026, time.September-time.Month(k), 3+k%4*6, 9+k%5, 10*k%60, 0, 0, time.UTC)
		id := fmt.Sprintf("SB-1039%02d", 90-k*7)
		sh := domestic(fmt.Sprintf("SH-%s-1", id[3:]), 103900+k, placed.Add(2*hour), "Tel Aviv-Yafo, IL", portal.ShipmentDelivered)
		dana.orders = append(dana.orders, order(id, placed, portal.OrderDelivered, dana.Email, danaHome,
			[]line{history[k%len(history)]}, sh))
	}
	dana.plans = []*plan{
		{Plan: portal.Plan{ID: "P-2001", Name: "Israel Unlimited", Number: "+972523456780", Country: portal.CountryIL,
			ICCID: iccid(portal.CountryIL, 2001), StartDate: day("2026-10-01"), EndDate: day("2027-03-31"),
			Status: portal.PlanActive, Voicemail: portal.Voicemail{Enabled: true, Lang: portal.LangHebrew}},
			usage: portal.Usage{PeriodStart: day("2026-11-01"), PeriodEnd: day("2026-11-30"),
				Minutes: 212, DataMB: 18432, DataLimitMB: 102400, SMS: 37}},
		{Plan: portal.Plan{ID: "P-2002", Name: "USA Talk & Text 30", Number: "+12125550147", Country: portal.CountryUS,
			ICCID: iccid(portal.CountryUS, 2002), StartDate: day("2026-11-20"), EndDate: day("2026-12-19"),
			Status: portal.PlanPending, Voicemail: portal.Voicemail{Lang: portal.LangEnglish}},
			usage: portal.Usage{PeriodStart: day("2026-11-20"), PeriodEnd: day("2026-12-19"), DataLimitMB: 10240}},
	}
	dana.tickets = []*ticket{
		{Ticket: portal.Ticket{ID: "T-4987", Department: "billing", Subject: "חיוב כפול באוקטובר", Status: portal.TicketClosed,
			CreatedAt: ts("2026-10-14T07:05:00Z"), UpdatedAt: ts("2026-10-15T10:30:00Z"),
			Messages: []portal.TicketMessage{
				{At: ts("2026-10-14T07:05:00Z"), From: portal.FromCustomer, Author: "דנה לוי", Body: "חויבתי פעמיים על חבילת אוקטובר."},
				{At: ts("2026-10-15T10:30:00Z"), From: portal.FromStaff, Author: "מיכל (חיובים)", Body: "החיוב הכפול בוטל והזיכוי יופיע בכרטיס תוך 5 ימי עסקים."},
			}}},
		{Ticket: portal.Ticket{ID: "T-5001", Department: "shipping", Subject: "הכרטיס עוד לא הגיע", Status: portal.TicketPending,
			OrderID: "SB-104233", CreatedAt: ts("2026-11-06T08:12:00Z"), UpdatedAt: ts("2026-11-06T11:40:00Z"),
			Messages: []portal.TicketMessage{
				{At: ts("2026-11-06T08:12:00Z"), From: portal.FromCustomer, Author: "דנה לוי", Body: "ההזמנה נשלחה לפני ארבעה ימים ועדיין לא הגיעה."},
				{At: ts("2026-11-06T11:40:00Z"), From: portal.FromStaff, Author: "אבי (משלוחים)", Body: "החבילה במרכז הלוגיסטי במודיעין ותגיע עד יום ראשון. לעדכן אותך כשתצא לחלוקה?"},
			}}},
	}
	s.add(dana)

	// יוסי מזרחי: a parcel with a delivery exception, call forwarding.
	yossi := &customer{Customer: portal.Customer{ID: "C-1002", Name: "יוסי מזרחי", Email: "yossi.mizrahi@example.com",
		Phone: "+972541234560", Lang: portal.LangHebrew}, password: "demo-yossi"}
	yossiHome := portal.Address{ID: "A-1", Name: "יוסי מזרחי", Line1: "שדרות הנשיא 45", City: "חיפה", PostalCode: "3463412",
		Country: "IL", Phone: "+972541234560", DefaultBilling: true, DefaultShipping: true}
	yossi.addresses = []*portal.Address{&yossiHome}
	yossi.orders = []*portal.Order{
		order("SB-104245", ts("2026-11-06T12:30:00Z"), portal.OrderProcessing, yossi.Email, yossiHome,
			[]line{{"SIM-IL-10", 1}},
			domestic("SH-104245-1", 104245, ts("2026-11-07T04:00:00Z"), "Haifa, IL", portal.ShipmentLabelCreated)),
		order("SB-104177", ts("2026-10-20T15:10:00Z"), portal.OrderShipped, yossi.Email, yossiHome,
			[]line{{"HOTSPOT-RENT", 1}, {"SHIP-EXP-IL", 1}},
			shipment("SH-104177-1", portal.CarrierIsraelPost, 104177, ts("2026-10-21T06:00:00Z"),
				leg{0, portal.ShipmentLabelCreated, "Petah Tikva, IL"},
				leg{5 * hour, portal.ShipmentPickedUp, "Petah Tikva, IL"},
				leg{days + 2*hour, portal.ShipmentInTransit, "Haifa Distribution Center, IL"},
				leg{2*days + 5*hour + 40*time.Minute, portal.ShipmentException, "Haifa, IL"})),
		order("SB-104102", ts("2026-09-14T10:00:00Z"), portal.OrderDelivered, yossi.Email, yossiHome,
			[]line{{"SIM-IL-10", 1}, {"SHIP-EXP-IL", 1}},
			domestic("SH-104102-1", 104102, ts("2026-09-14T12:00:00Z"), "Haifa, IL", portal.ShipmentDelivered)),
	}
	yossi.plans = []*plan{
		{Plan: portal.Plan{ID: "P-2003", Name: "Israel 10GB", Number: "+972541234567", Country: portal.CountryIL,
			ICCID: iccid(portal.CountryIL, 2003), StartDate: day("2026-09-15"), EndDate: day("2026-12-14"),
			Status: portal.PlanActive, Voicemail: portal.Voicemail{Enabled: true, Lang: portal.LangHebrew},
			Forwarding: portal.Forwarding{Enabled: true, To: "+97248123456"}},
			usage: portal.Usage{PeriodStart: day("2026-10-15"), PeriodEnd: day("2026-11-14"),
				Minutes: 540, MinutesLimit: 1000, DataMB: 8950, DataLimitMB: 10240, SMS: 12, SMSLimit: 100}},
	}
	s.add(yossi)

	// Michael Cohen: a split order (two carriers), an Israeli number
	// forwarded to his US phone, an open technical ticket.
	michael := &customer{Customer: portal.Customer{ID: "C-1003", Name: "Michael Cohen", Email: "michael.cohen@example.com",
		Phone: "+13125550123", Lang: portal.LangEnglish}, password: "demo-michael"}
	michaelHome := portal.Address{ID: "A-1", Name: "Michael Cohen", Line1: "1550 N Lake Shore Dr", Line2: "Apt 12B",
		City: "Chicago", Region: "IL", PostalCode: "60610", Country: "US", Phone: "+13125550123",
		DefaultBilling: true, DefaultShipping: true}
	michaelHotel := portal.Address{ID: "A-2", Name: "Michael Cohen c/o Hilton Tel Aviv", Line1: "Independence Park",
		City: "Tel Aviv-Yafo", PostalCode: "6340405", Country: "IL"}
	michael.addresses = []*portal.Address{&michaelHome, &michaelHotel}
	michael.emails = []*portal.ExtraEmail{{ID: "E-1", Email: "m.cohen.travel@example.com", Notify: portal.Notify{Shipping: true, Support: true}}}
	michael.orders = []*portal.Order{
		order("SB-104251", ts("2026-11-08T02:14:00Z"), portal.OrderShipped, michael.Email, michaelHome,
			[]line{{"SIM-IL-TRV14", 1}},
			shipment("SH-104251-1", portal.CarrierUSPS, 104251, ts("2026-11-08T15:00:00Z"),
				leg{0, portal.ShipmentLabelCreated, "Brooklyn, NY, US"},
				leg{5 * hour, portal.ShipmentPickedUp, "Brooklyn, NY, US"},
				leg{13 * hour, portal.ShipmentInTransit, "Chicago, IL, US"},
				leg{22*hour + 5*time.Minute, portal.ShipmentOutForDelivery, "Chicago, IL, US"})),
		order("SB-104210", ts("2026-10-18T21:30:00Z"), portal.OrderDelivered, michael.Email, michaelHome,
			[]line{{"SIM-IL-TRV30", 1}, {"HOTSPOT-RENT-US", 1}, {"SHIP-EXP-US", 1}},
			shipment("SH-104210-1", portal.CarrierFedEx, 104210, ts("2026-10-19T14:00:00Z"),
				leg{0, portal.ShipmentLabelCreated, "Brooklyn, NY, US"},
				leg{4 * hour, portal.ShipmentPickedUp, "Brooklyn, NY, US"},
				leg{14 * hour, portal.ShipmentInTransit, "Memphis, TN, US"},
				leg{days + 18*hour, portal.ShipmentOutForDelivery, "Chicago, IL, US"},
				leg{days + 23*hour, portal.ShipmentDelivered, "Chicago, IL, US"}),
			shipment("SH-104210-2", portal.CarrierUPS, 104210, ts("2026-10-19T16:30:00Z"),
				leg{0, portal.ShipmentLabelCreated, "Secaucus, NJ, US"},
				leg{3 * hour, portal.ShipmentPickedUp, "Secaucus, NJ, US"},
				leg{days, portal.ShipmentInTransit, "Hodgkins, IL, US"},
				leg{2*days + 15*hour, portal.ShipmentOutForDelivery, "Chicago, IL, US"},
				leg{2*days + 21*hour, portal.ShipmentDelivered, "Chicago, IL, US"})),
	}
	michael.plans = []*plan{
		{Plan: portal.Plan{ID: "P-2004", Name: "Israel Traveler 30", Number: "+972587654321", Country: portal.CountryIL,
			ICCID: iccid(portal.CountryIL, 2004), StartDate: day("2026-10-25"), EndDate: day("2026-11-23"),
			Status: portal.PlanActive, Voicemail: portal.Voicemail{Enabled: true, Lang: portal.LangEnglish},
			Forwarding: portal.Forwarding{Enabled: true, To: "+13125550123"}},
			usage: portal.Usage{PeriodStart: day("2026-10-25"), PeriodEnd: day("2026-11-23"),
				Minutes: 95, MinutesLimit: 500, DataMB: 6310, DataLimitMB: 20480, SMS: 8, SMSLimit: 100}},
	}
	michael.tickets = []*ticket{
		{Ticket: portal.Ticket{ID: "T-5002", Department: "technical", Subject: "No mobile data in Jerusalem", Status: portal.TicketOpen,
			PlanID: "P-2004", CreatedAt: ts("2026-11-07T18:25:00Z"), UpdatedAt: ts("2026-11-07T18:25:00Z"),
			Messages: []portal.TicketMessage{
				{At: ts("2026-11-07T18:25:00Z"), From: portal.FromCustomer, Author: "Michael Cohen",
					Body: "Calls work but I have no data since I arrived in Jerusalem this afternoon."},
			}}},
	}
	s.add(michael)

	// Sarah Johnson: a US plan and an expired Israeli one.
	sarah := &customer{Customer: portal.Customer{ID: "C-1004", Name: "Sarah Johnson", Email: "sarah.johnson@example.com",
		Phone: "+16465550199", Lang: portal.LangEnglish}, password: "demo-sarah"}
	sarahHome := portal.Address{ID: "A-1", Name: "Sarah Johnson", Line1: "350 W 42nd St", Line2: "Apt 31C",
		City: "New York", Region: "NY", PostalCode: "10036", Country: "US", Phone: "+16465550199",
		DefaultBilling: true, DefaultShipping: true}
	sarah.addresses = []*portal.Address{&sarahHome}
	sarah.orders = []*portal.Order{
		order("SB-104188", ts("2026-10-23T14:45:00Z"), portal.OrderDelivered, sarah.Email, sarahHome,
			[]line{{"SIM-US-UNL", 1}},
			shipment("SH-104188-1", portal.CarrierUPS, 104188, ts("2026-10-23T20:00:00Z"),
				leg{0, portal.ShipmentLabelCreated, "Secaucus, NJ, US"},
				leg{14 * hour, portal.ShipmentPickedUp, "Secaucus, NJ, US"},
				leg{days + 6*hour, portal.ShipmentInTransit, "Maspeth, NY, US"},
				leg{2*days + 12*hour, portal.ShipmentOutForDelivery, "New York, NY, US"},
				leg{2*days + 18*hour + 30*time.Minute, portal.ShipmentDelivered, "New York, NY, US"})),
		order("SB-104090", ts("2026-05-20T13:00:00Z"), portal.OrderDelivered, sarah.Email, sarahHome,
			[]line{{"SIM-IL-TRV14", 1}, {"SHIP-EXP-US", 1}},
			shipment("SH-104090-1", portal.CarrierUSPS, 104090, ts("2026-05-20T19:00:00Z"),
				leg{0, portal.ShipmentLabelCreated, "Brooklyn, NY, US"},
				leg{3 * hour, portal.ShipmentPickedUp, "Brooklyn, NY, US"},
				leg{15 * hour, portal.ShipmentInTransit, "New York, NY, US"},
				leg{days + 13*hour, portal.ShipmentOutForDelivery, "New York, NY, US"},
				leg{days + 17*hour, portal.ShipmentDelivered, "New York, NY, US"})),
	}
	sarah.plans = []*plan{
		{Plan: portal.Plan{ID: "P-2005", Name: "USA Unlimited", Number: "+16465550142", Country: portal.CountryUS,
			ICCID: iccid(portal.CountryUS, 2005), StartDate: day("2026-10-01"), EndDate: day("2026-12-31"),
			Status: portal.PlanActive, Voicemail: portal.Voicemail{Enabled: true, Lang: portal.LangEnglish}},
			usage: portal.Usage{PeriodStart: day("2026-11-01"), PeriodEnd: day("2026-11-30"),
				Minutes: 180, DataMB: 2450, SMS: 64}},
		{Plan: portal.Plan{ID: "P-2006", Name: "Israel Traveler 14", Number: "+972549876543", Country: portal.CountryIL,
			ICCID: iccid(portal.CountryIL, 2006), StartDate: day("2026-06-01"), EndDate: day("2026-06-14"),
			Status: portal.PlanExpired, Voicemail: portal.Voicemail{Lang: portal.LangHebrew}},
			usage: portal.Usage{PeriodStart: day("2026-06-01"), PeriodEnd: day("2026-06-14"),
				Minutes: 42, MinutesLimit: 200, DataMB: 3900, DataLimitMB: 5120, SMS: 5, SMSLimit: 50}},
	}
	s.add(sarah)

	// נועה פרץ: a new account with nothing in it.
	s.add(&customer{Customer: portal.Customer{ID: "C-1005", Name: "נועה פרץ", Email: "noa.peretz@example.com",
		Lang: portal.LangHebrew}, password: "demo-noa"})
}

// usageUpdated is when seeded usage was last measured.
var usageUpdated = ts("2026-11-09T06:00:00Z")

// add registers a customer and everything it owns.
func (s *Server) add(c *customer) {
	c.nextID = 10
	s.customers[c.ID] = c
	s.byEmail[strings.ToLower(c.Email)] = c.ID
	for _, o := range c.orders {
		s.orders[o.ID] = o
		s.orderOwner[o.ID] = c.ID
	}
	for _, p := range c.plans {
		p.owner = c.ID
		p.usage.PlanID = p.ID
		p.usage.UpdatedAt = usageUpdated
		s.plans[p.ID] = p
	}
	for _, t := range c.tickets {
		t.owner = c.ID
		s.tickets[t.ID] = t
	}
}
