package flows

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"supportbot/bot"
	"supportbot/portal"
)

// Vars of the address book journey: the address being added or changed,
// one detail a var.
const (
	varAddrID        = "addr_id" // the chosen address's id; "" for a new one
	varAddrName      = "addr_name"
	varAddrLine1     = "addr_line1"
	varAddrLine2     = "addr_line2"
	varAddrCity      = "addr_city"
	varAddrCountry   = "addr_country"
	varAddrPostal    = "addr_postal"
	varAddrPhone     = "addr_phone"    // E.164, or ""
	varAddrDefaults  = "addr_defaults" // Toggles: "billing", "shipping"
	varAddrRegion    = "addr_region"   // the state of a US address, kept from the portal
	varAddrRegionFor = "addr_region_for"
)

// Events of the address book journey.
const (
	evAddAddress   = "add" // the "Add an address" button
	evAddressNew   = "new" // the reviewed address is a new one
	evAddressName  = "fix_name"
	evAddressLine1 = "fix_line1"
	evAddressLine2 = "fix_line2"
	evAddressCity  = "fix_city"
	evAddressLand  = "fix_country"
	evAddressPost  = "fix_postal"
	evAddressPhone = "fix_phone"
)

// Countries a customer can choose for an address.
const (
	countryIL = "IL"
	countryUS = "US"
)

// Toggle values of the defaults step.
const (
	defBilling  = "billing"
	defShipping = "shipping"
)

// maxAddressText is the portal's limit on each line of an address.
const maxAddressText = 100

// addressFixes sends a detail the portal refused back to the step that
// asks for it again (and returns to the review).
var addressFixes = map[string]string{
	"name": evAddressName, "line1": evAddressLine1, "line2": evAddressLine2, "city": evAddressCity,
	"country": evAddressLand, "postal_code": evAddressPost, "phone": evAddressPhone,
}

// addresses (Address book): list the addresses with their defaults; add
// one detail by detail, or change any detail of one, on a review screen.
//
// A new address is asked for in order (ask_*). From the review every
// detail has its own fix_* step that comes straight back; a detail the
// portal refuses is asked again the same way.
func (k *kit) addresses() bot.Flow {
	add := []bot.Btn{{Label: "addresses.btn.add", Event: evAddAddress}}
	save := func(name, done string) bot.State {
		return bot.State{Name: name, Enter: k.saveAddress, On: bot.On{bot.EventNext: done, bot.EventFail: "review",
			evAddressName: "fix_name", evAddressLine1: "fix_line1", evAddressLine2: "fix_line2", evAddressCity: "fix_city",
			evAddressLand: "fix_country", evAddressPost: "fix_postal", evAddressPhone: "fix_phone"}}
	}
	return bot.Flow{Name: Addresses, Start: "list", Title: "addresses.title", Command: "addresses", Phrases: []string{"address", "address book", "addresses", "shipping address", "billing address", "כתובת", "כתובות", "פנקס כתובות"},
		Events: []string{evEmpty, evAddAddress, evAddressNew, evAddressName, evAddressLine1, evAddressLine2,
			evAddressCity, evAddressLand, evAddressPost, evAddressPhone},
		States: []bot.State{
			{Name: "list", Prompt: "addresses.list.prompt", Auth: true, Enter: k.listAddresses,
				Input: bot.List{Var: varAddrID}, Buttons: add,
				On: bot.On{bot.EventNext: "open", evAddAddress: "new", evEmpty: "empty"}},
			{Name: "empty", Prompt: "addresses.empty.prompt", Buttons: add, On: bot.On{evAddAddress: "new"}},
			{Name: "open", Enter: k.openAddress, On: bot.On{bot.EventNext: "review", bot.EventFail: "list"}},
			{Name: "new", Enter: newAddress, On: bot.On{bot.EventNext: "ask_name"}},

			// A new address, one detail after another.
			{Name: "ask_name", Prompt: "addresses.ask_name.prompt",
				Input: bot.Text{Check: addressName, Var: varAddrName}, On: bot.On{bot.EventNext: "ask_line1"}},
			{Name: "ask_line1", Prompt: "addresses.ask_line1.prompt",
				Input: bot.Text{Check: addressStreet, Var: varAddrLine1}, On: bot.On{bot.EventNext: "ask_line2"}},
			{Name: "ask_line2", Prompt: "addresses.ask_line2.prompt",
				Input: bot.Text{Check: addressText, Var: varAddrLine2, Optional: true}, On: bot.On{bot.EventNext: "ask_city"}},
			{Name: "ask_city", Prompt: "addresses.ask_city.prompt",
				Input: bot.Text{Check: addressCity, Var: varAddrCity}, On: bot.On{bot.EventNext: "ask_country"}},
			{Name: "ask_country", Prompt: "addresses.ask_country.prompt", Enter: countryOptions,
				Input: bot.List{Var: varAddrCountry}, On: bot.On{bot.EventNext: "ask_postal"}},
			{Name: "ask_postal", Prompt: "addresses.ask_postal.prompt", Enter: postalFormat,
				Input: bot.Text{Check: postalCode, Var: varAddrPostal}, On: bot.On{bot.EventNext: "check_postal"}},
			{Name: "check_postal", Enter: checkPostal, On: bot.On{bot.EventNext: "ask_phone", bot.EventFail: "ask_postal"}},
			{Name: "ask_phone", Prompt: "addresses.ask_phone.prompt",
				Input: bot.Text{Check: addressPhone, Var: varAddrPhone, Optional: true},
				On:    bot.On{bot.EventNext: "ask_defaults"}},
			{Name: "ask_defaults", Prompt: "addresses.ask_defaults.prompt", Enter: defaultOptions,
				Input: bot.Toggles{Var: varAddrDefaults, Done: "addresses.btn.continue"}, On: bot.On{bot.EventNext: "review"}},

			// Every detail on one screen; a button per detail to change it.
			{Name: "review", Prompt: "addresses.review.prompt", Enter: reviewAddress,
				Input: bot.Review{Save: "addresses.btn.save", Fields: []bot.Field{
					{Label: "addresses.btn.name", State: "fix_name"}, {Label: "addresses.btn.street", State: "fix_line1"},
					{Label: "addresses.btn.apartment", State: "fix_line2"}, {Label: "addresses.btn.city", State: "fix_city"},
					{Label: "addresses.btn.country", State: "fix_country"}, {Label: "addresses.btn.postal", State: "fix_postal"},
					{Label: "addresses.btn.phone", State: "fix_phone"}, {Label: "addresses.btn.defaults", State: "ask_defaults"},
				}},
				On: bot.On{bot.EventNext: "check"}},
			{Name: "fix_name", Prompt: "addresses.fix_name.prompt", Enter: current(varAddrName),
				Input: bot.Text{Check: addressName, Var: varAddrName}, On: bot.On{bot.EventNext: "review"}},
			{Name: "fix_line1", Prompt: "addresses.fix_line1.prompt", Enter: current(varAddrLine1),
				Input: bot.Text{Check: addressStreet, Var: varAddrLine1}, On: bot.On{bot.EventNext: "review"}},
			{Name: "fix_line2", Prompt: "addresses.fix_line2.prompt", Enter: current(varAddrLine2),
				Input: bot.Text{Check: addressText, Var: varAddrLine2, Optional: true}, On: bot.On{bot.EventNext: "review"}},
			{Name: "fix_city", Prompt: "addresses.fix_city.prompt", Enter: current(varAddrCity),
				Input: bot.Text{Check: addressCity, Var: varAddrCity}, On: bot.On{bot.EventNext: "review"}},
			{Name: "fix_country", Prompt: "addresses.fix_country.prompt", Enter: countryOptions,
				Input: bot.List{Var: varAddrCountry}, On: bot.On{bot.EventNext: "review"}},
			// Saving the review checks the postal code against the country.
			{Name: "fix_postal", Prompt: "addresses.fix_postal.prompt", Enter: postalFormat,
				Input: bot.Text{Check: postalCode, Var: varAddrPostal}, On: bot.On{bot.EventNext: "review"}},
			{Name: "fix_phone", Prompt: "addresses.fix_phone.prompt", Enter: current(varAddrPhone),
				Input: bot.Text{Check: addressPhone, Var: varAddrPhone, Optional: true},
				On:    bot.On{bot.EventNext: "review"}},

			{Name: "check", Enter: checkAddress,
				On: bot.On{evAddressNew: "confirm_add", bot.EventNext: "confirm_edit", evAddressPost: "fix_postal"}},
			{Name: "confirm_add", Prompt: "addresses.confirm_add.prompt", Enter: showAddress, Input: bot.Confirm{},
				On: bot.On{bot.EventNext: "save_add", bot.EventChange: "review"}},
			save("save_add", "done_add"),
			{Name: "done_add", Prompt: "addresses.done_add.prompt", Enter: showSavedAddress, Input: bot.End{}},
			{Name: "confirm_edit", Prompt: "addresses.confirm_edit.prompt", Enter: k.confirmAddressChanges, Input: bot.Confirm{},
				On: bot.On{bot.EventNext: "save_edit", bot.EventChange: "review", bot.EventFail: "review"}},
			save("save_edit", "done_edit"),
			{Name: "done_edit", Prompt: "addresses.done_edit.prompt", Enter: showSavedAddress, Input: bot.End{}},
		}}
}

const addressesKey = "addresses"

// addressBook returns the customer's addresses, fetched at most once per
// update.
func (k *kit) addressBook(ctx context.Context, t *bot.Turn) ([]portal.Address, error) {
	if v, ok := t.Cached(addressesKey); ok {
		return v.([]portal.Address), nil
	}
	list, err := k.p.Addresses(ctx, t.Session.Token)
	if err != nil {
		return nil, fail(err)
	}
	t.Cache(addressesKey, list)
	return list, nil
}

// chosenAddress returns the address being changed, as the portal has it.
func (k *kit) chosenAddress(ctx context.Context, t *bot.Turn) (portal.Address, error) {
	list, err := k.addressBook(ctx, t)
	if err != nil {
		return portal.Address{}, err
	}
	for _, a := range list {
		if a.ID == t.Var(varAddrID) {
			return a, nil
		}
	}
	return portal.Address{}, fail(portal.ErrNotFound)
}

// listAddresses shows every address in short with its defaults in words,
// and offers them a page at a time.
func (k *kit) listAddresses(ctx context.Context, t *bot.Turn) (string, error) {
	list, err := k.addressBook(ctx, t)
	if err != nil {
		return "", err
	}
	if len(list) == 0 {
		return evEmpty, nil
	}
	lines := make([]string, 0, len(list))
	for _, a := range list {
		d := map[string]any{"Short": shortAddress(t, a)}
		line := "addresses.list.line"
		if a.DefaultBilling || a.DefaultShipping {
			line, d["Defaults"] = "addresses.list.line_default", defaultsText(t, a)
		}
		lines = append(lines, t.T(line, d))
	}
	size := t.PageSize()
	pages := (len(list) + size - 1) / size
	if t.Page() > pages {
		t.SetPage(pages)
	}
	from := (t.Page() - 1) * size
	for _, a := range list[from:min(from+size, len(list))] {
		t.Options = append(t.Options, bot.Option{Value: a.ID,
			Label: t.T("addresses.list.option", map[string]any{"Street": a.Line1, "City": a.City})})
	}
	t.More = t.Page() < pages
	t.Data = map[string]any{"Lines": strings.Join(lines, "\n")}
	return "", nil
}

// newAddress starts a blank address: nothing left from one looked at before.
func newAddress(_ context.Context, t *bot.Turn) (string, error) {
	setAddress(t, portal.Address{})
	return bot.EventNext, nil
}

// openAddress fills the review with the chosen address, as the portal has it.
func (k *kit) openAddress(ctx context.Context, t *bot.Turn) (string, error) {
	a, err := k.chosenAddress(ctx, t)
	if errors.Is(err, portal.ErrNotFound) {
		t.Say("addresses.gone", nil)
		return bot.EventFail, nil
	}
	if err != nil {
		return "", err
	}
	setAddress(t, a)
	return bot.EventNext, nil
}

// setAddress puts every detail of a into the flow's Vars (a's ID too).
func setAddress(t *bot.Turn, a portal.Address) {
	t.Set(varAddrID, a.ID)
	t.Set(varAddrName, a.Name)
	t.Set(varAddrLine1, a.Line1)
	t.Set(varAddrLine2, a.Line2)
	t.Set(varAddrCity, a.City)
	t.Set(varAddrCountry, a.Country)
	t.Set(varAddrPostal, a.PostalCode)
	t.Set(varAddrPhone, a.Phone)
	t.Set(varAddrRegion, a.Region)
	t.Set(varAddrRegionFor, a.Country)
	var on []string
	if a.DefaultBilling {
		on = append(on, defBilling)
	}
	if a.DefaultShipping {
		on = append(on, defShipping)
	}
	t.Set(varAddrDefaults, strings.Join(on, ","))
}

// addressOf is the address the customer has given so far. A region (a
// US state) is kept while the country stays the one it belongs to.
func addressOf(t *bot.Turn) portal.Address {
	a := portal.Address{
		Name: t.Var(varAddrName), Line1: t.Var(varAddrLine1), Line2: t.Var(varAddrLine2), City: t.Var(varAddrCity),
		Country: t.Var(varAddrCountry), PostalCode: t.Var(varAddrPostal), Phone: t.Var(varAddrPhone),
	}
	if a.Country == t.Var(varAddrRegionFor) {
		a.Region = t.Var(varAddrRegion)
	}
	for _, v := range splitDefaults(t.Var(varAddrDefaults)) {
		switch v {
		case defBilling:
			a.DefaultBilling = true
		case defShipping:
			a.DefaultShipping = true
		}
	}
	return a
}

func splitDefaults(set string) []string {
	if set == "" {
		return nil
	}
	return strings.Split(set, ",")
}

// current shows the detail held in name as it is now, on the step that
// changes it.
func current(name string) func(context.Context, *bot.Turn) (string, error) {
	return func(_ context.Context, t *bot.Turn) (string, error) {
		v := t.Var(name)
		switch {
		case v == "":
			v = t.T("addresses.none", nil)
		case name == varAddrPhone:
			v = displayPhone(v)
		}
		t.Data = map[string]any{"Current": v}
		return "", nil
	}
}

func countryOptions(_ context.Context, t *bot.Turn) (string, error) {
	t.Data = map[string]any{"Current": countryName(t, t.Var(varAddrCountry))}
	t.Options = []bot.Option{
		{Value: countryIL, Label: t.T("addresses.country.il", nil)},
		{Value: countryUS, Label: t.T("addresses.country.us", nil)},
	}
	return "", nil
}

// countryName names a country code in the customer's language.
func countryName(t *bot.Turn, code string) string {
	switch code {
	case countryIL:
		return t.T("addresses.country.il", nil)
	case countryUS:
		return t.T("addresses.country.us", nil)
	case "":
		return t.T("addresses.none", nil)
	}
	return code
}

// postalFormat tells what a postal code of the chosen country looks like.
func postalFormat(_ context.Context, t *bot.Turn) (string, error) {
	format := "addresses.postal.format_other"
	switch t.Var(varAddrCountry) {
	case countryIL:
		format = "addresses.postal.format_il"
	case countryUS:
		format = "addresses.postal.format_us"
	}
	cur := t.Var(varAddrPostal)
	if cur == "" {
		cur = t.T("addresses.none", nil)
	}
	t.Data = map[string]any{"Format": t.T(format, nil), "Current": cur}
	return "", nil
}

// checkPostal holds a new address's postal code to its country's format.
func checkPostal(_ context.Context, t *bot.Turn) (string, error) {
	code, problem := postalFor(t.Var(varAddrCountry), t.Var(varAddrPostal))
	if problem != "" {
		t.Say(problem, nil)
		return bot.EventFail, nil
	}
	t.Set(varAddrPostal, code)
	return bot.EventNext, nil
}

func defaultOptions(_ context.Context, t *bot.Turn) (string, error) {
	t.Options = []bot.Option{
		{Value: defBilling, Label: t.T("addresses.opt.billing", nil)},
		{Value: defShipping, Label: t.T("addresses.opt.shipping", nil)},
	}
	return "", nil
}

// reviewAddress shows the address in full.
func reviewAddress(_ context.Context, t *bot.Turn) (string, error) {
	t.Data = map[string]any{"Card": addressCard(t, addressOf(t))}
	return "", nil
}

// checkAddress runs when the review is saved: a postal code that does not
// fit the country (either was changed on the review) is asked for again;
// then a new address goes to its confirmation, a changed one to the
// confirmation of its changes.
func checkAddress(_ context.Context, t *bot.Turn) (string, error) {
	country, code := t.Var(varAddrCountry), t.Var(varAddrPostal)
	code, problem := postalFor(country, code)
	if problem != "" {
		switch {
		case t.Var(varAddrPostal) == "":
		case country == countryIL:
			problem = "addresses.postal.mismatch_il"
		case country == countryUS:
			problem = "addresses.postal.mismatch_us"
		}
		t.Say(problem, map[string]any{"Code": t.Var(varAddrPostal)})
		return evAddressPost, nil
	}
	t.Set(varAddrPostal, code)
	if t.Var(varAddrID) == "" {
		return evAddressNew, nil
	}
	return bot.EventNext, nil
}

func showAddress(_ context.Context, t *bot.Turn) (string, error) {
	t.Data = map[string]any{"Card": addressCard(t, addressOf(t))}
	return "", nil
}

// confirmAddressChanges shows old → new for each changed detail, or goes
// back to the review when nothing changed.
func (k *kit) confirmAddressChanges(ctx context.Context, t *bot.Turn) (string, error) {
	old, err := k.chosenAddress(ctx, t)
	if err != nil {
		return "", err
	}
	want := addressOf(t)
	none := t.T("addresses.none", nil)
	text := func(s string) string {
		if s == "" {
			return none
		}
		return s
	}
	phone := func(s string) string {
		if s == "" {
			return none
		}
		return displayPhone(s)
	}
	changes := []struct {
		field    string
		old, new string
	}{
		{"addresses.field.name", old.Name, want.Name},
		{"addresses.field.street", old.Line1, want.Line1},
		{"addresses.field.apartment", text(old.Line2), text(want.Line2)},
		{"addresses.field.city", cityOf(old), cityOf(want)},
		{"addresses.field.country", countryName(t, old.Country), countryName(t, want.Country)},
		{"addresses.field.postal", text(old.PostalCode), text(want.PostalCode)},
		{"addresses.field.phone", phone(old.Phone), phone(want.Phone)},
		{"addresses.field.defaults", defaultsText(t, old), defaultsText(t, want)},
	}
	var lines []string
	for _, c := range changes {
		if c.old != c.new {
			lines = append(lines, t.T("addresses.change", map[string]any{"Field": t.T(c.field, nil), "Old": c.old, "New": c.new}))
		}
	}
	if len(lines) == 0 {
		t.Say("addresses.unchanged", nil)
		return bot.EventFail, nil
	}
	t.Data = map[string]any{"Short": shortAddress(t, old), "Changes": strings.Join(lines, "\n")}
	return "", nil
}

const savedAddressKey = "saved_address"

// saveAddress adds the new address or updates the chosen one. A detail
// the portal refuses is explained and asked for again.
func (k *kit) saveAddress(ctx context.Context, t *bot.Turn) (string, error) {
	a := addressOf(t)
	var saved portal.Address
	var err error
	if id := t.Var(varAddrID); id == "" {
		saved, err = k.p.AddAddress(write(ctx, t), t.Session.Token, a)
	} else {
		saved, err = k.p.UpdateAddress(write(ctx, t), t.Session.Token, id, a)
	}
	if err == nil {
		t.Cache(savedAddressKey, saved)
		return bot.EventNext, nil
	}
	var inv *portal.InvalidError
	if errors.As(err, &inv) {
		for _, field := range []string{"name", "line1", "line2", "city", "country", "postal_code", "phone"} {
			reason := inv.Fields[field]
			if reason == "" {
				continue
			}
			t.Say(refusedAddress(field, reason, a.Country), nil)
			return addressFixes[field], nil
		}
		t.Say("error.rejected", nil) // a detail the customer does not give (the region)
		return bot.EventFail, nil
	}
	if errors.Is(err, portal.ErrConflict) && t.Var(varAddrID) == "" {
		t.Say("addresses.full", nil)
		return bot.EventFail, nil
	}
	return "", fail(err)
}

// refusedAddress names the portal's reason for refusing a detail.
func refusedAddress(field, reason, country string) string {
	switch {
	case reason == portal.ReasonRequired:
		return "addresses.refused.required"
	case reason == portal.ReasonTooLong:
		return "addresses.too_long"
	case field == "postal_code" && country == countryIL:
		return "addresses.postal.il"
	case field == "postal_code" && country == countryUS:
		return "addresses.postal.us"
	case field == "phone":
		return "addresses.ask_phone.invalid"
	}
	return "addresses.refused.invalid"
}

// showSavedAddress shows the address as the portal saved it.
func showSavedAddress(_ context.Context, t *bot.Turn) (string, error) {
	a := addressOf(t)
	if v, ok := t.Cached(savedAddressKey); ok {
		a = v.(portal.Address)
	}
	t.Data = map[string]any{"Card": addressCard(t, a)}
	return "", nil
}

// shortAddress is an address on one line: name, street, city.
func shortAddress(t *bot.Turn, a portal.Address) string {
	return t.T("addresses.short", map[string]any{"Name": a.Name, "Street": streetOf(a), "City": cityOf(a)})
}

// addressCard is an address in full, a detail a line.
func addressCard(t *bot.Turn, a portal.Address) string {
	none := t.T("addresses.none", nil)
	apt, postal, phone := none, none, none
	if a.Line2 != "" {
		apt = a.Line2
	}
	if a.PostalCode != "" {
		postal = a.PostalCode
	}
	if a.Phone != "" {
		phone = displayPhone(a.Phone)
	}
	return t.T("addresses.card", map[string]any{
		"Name": a.Name, "Street": a.Line1, "Apartment": apt, "City": cityOf(a),
		"Country": countryName(t, a.Country), "Postal": postal, "Phone": phone, "Defaults": defaultsText(t, a),
	})
}

// streetOf is the street with the apartment and floor, if given.
func streetOf(a portal.Address) string {
	if a.Line2 == "" {
		return a.Line1
	}
	return a.Line1 + ", " + a.Line2
}

// cityOf is the city with the state of a US address.
func cityOf(a portal.Address) string {
	if a.Region == "" {
		return a.City
	}
	return a.City + ", " + a.Region
}

// defaultsText says in words what an address is the default for.
func defaultsText(t *bot.Turn, a portal.Address) string {
	switch {
	case a.DefaultBilling && a.DefaultShipping:
		return t.T("addresses.defaults.both", nil)
	case a.DefaultBilling:
		return t.T("addresses.defaults.billing", nil)
	case a.DefaultShipping:
		return t.T("addresses.defaults.shipping", nil)
	}
	return t.T("addresses.defaults.none", nil)
}

// Validators of the address details.

// addressText tidies a typed detail (spaces collapsed) and checks its
// length; a problem is a message ID.
func addressText(text string) (string, string) {
	s := strings.Join(strings.Fields(text), " ")
	switch {
	case s == "":
		return "", "common.input.empty"
	case utf8.RuneCountInString(s) > maxAddressText:
		return "", "addresses.too_long"
	}
	return s, ""
}

func hasLetter(s string) bool {
	return strings.IndexFunc(s, unicode.IsLetter) >= 0
}

// addressName accepts the name the address is for, in any script; a
// company or "c/o" is fine, digits alone are not a name.
func addressName(text string) (string, string) {
	s, problem := addressText(text)
	if problem == "" && !hasLetter(s) {
		return "", "addresses.ask_name.invalid"
	}
	return s, problem
}

// addressStreet accepts a street and house number.
func addressStreet(text string) (string, string) {
	s, problem := addressText(text)
	if problem == "" && !hasLetter(s) {
		return "", "addresses.ask_line1.invalid"
	}
	return s, problem
}

// addressCity accepts a city name.
func addressCity(text string) (string, string) {
	s, problem := addressText(text)
	if problem == "" && !hasLetter(s) {
		return "", "addresses.ask_city.invalid"
	}
	return s, problem
}

// postalCode accepts digits with an optional dash, spaces dropped
// ("65784 12" → "6578412"); the country's own rule is checked after it
// (postalFor).
func postalCode(text string) (string, string) {
	s := strings.Join(strings.Fields(text), "")
	switch {
	case s == "":
		return "", "common.input.empty"
	case hasLetter(s):
		return "", "addresses.ask_postal.letters"
	case len(s) > 10 || strings.Trim(s, "0123456789-") != "":
		return "", "addresses.ask_postal.invalid"
	}
	return s, ""
}

var (
	postalIL = regexp.MustCompile(`^[0-9]{7}$`)
	zipUS    = regexp.MustCompile(`^[0-9]{5}(-[0-9]{4})?$`)
	zip9US   = regexp.MustCompile(`^[0-9]{9}$`)
)

// postalFor holds a postal code to its country's format: 7 digits in
// Israel; a 5-digit ZIP code or ZIP+4 in the United States (9 digits in
// a row are written 12345-6789). Other countries keep theirs as typed.
func postalFor(country, code string) (string, string) {
	switch country {
	case countryIL:
		if !postalIL.MatchString(code) {
			return "", "addresses.postal.il"
		}
	case countryUS:
		if zip9US.MatchString(code) {
			code = code[:5] + "-" + code[5:]
		}
		if !zipUS.MatchString(code) {
			return "", "addresses.postal.us"
		}
	}
	return code, ""
}

// addressPhone accepts a phone number for the courier (phoneNumber's
// rules), in E.164.
func addressPhone(text string) (string, string) {
	v, problem := phoneNumber(text)
	switch problem {
	case "forwarding.ask_number.letters":
		return "", "addresses.ask_phone.letters"
	case "forwarding.ask_number.invalid":
		return "", "addresses.ask_phone.invalid"
	}
	return v, problem
}
