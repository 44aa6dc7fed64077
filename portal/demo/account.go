package demo

import (
	"fmt"
	"regexp"
	"strings"

	"supportbot/portal"
)

func (s *Server) listEmails(c *call) reply {
	out := []portal.ExtraEmail{}
	for _, e := range c.cust.emails {
		out = append(out, *e)
	}
	return ok(map[string]any{"emails": out})
}

func (s *Server) addEmail(c *call) reply {
	var in struct {
		Email  string        `json:"email"`
		Notify portal.Notify `json:"notify"`
	}
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	email := strings.TrimSpace(in.Email)
	if r := emailReason(email); r != "" {
		return invalid(map[string]string{"email": r})
	}
	if strings.EqualFold(email, c.cust.Email) || c.cust.extraEmail(email) != nil {
		return conflict("the address is already on the account")
	}
	if len(c.cust.emails) >= 5 {
		return conflict("an account has at most 5 additional email addresses")
	}
	e := &portal.ExtraEmail{ID: c.cust.newID("E"), Email: email, Notify: in.Notify}
	c.cust.emails = append(c.cust.emails, e)
	return created(e)
}

func (c *customer) extraEmail(email string) *portal.ExtraEmail {
	for _, e := range c.emails {
		if strings.EqualFold(e.Email, email) {
			return e
		}
	}
	return nil
}

func (c *customer) newID(prefix string) string {
	c.nextID++
	return fmt.Sprintf("%s-%d", prefix, c.nextID)
}

func (s *Server) updateEmail(c *call) reply {
	var in struct {
		Notify *portal.Notify `json:"notify"`
	}
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	if in.Notify == nil {
		return invalid(map[string]string{"notify": portal.ReasonRequired})
	}
	for _, e := range c.cust.emails {
		if e.ID == c.r.PathValue("id") {
			e.Notify = *in.Notify
			return ok(e)
		}
	}
	return notFound("no such email")
}

func (s *Server) deleteEmail(c *call) reply {
	for i, e := range c.cust.emails {
		if e.ID == c.r.PathValue("id") {
			c.cust.emails = append(c.cust.emails[:i:i], c.cust.emails[i+1:]...)
			return noContent()
		}
	}
	return notFound("no such email")
}

func (s *Server) listAddresses(c *call) reply {
	out := []portal.Address{}
	for _, a := range c.cust.addresses {
		out = append(out, *a)
	}
	return ok(map[string]any{"addresses": out})
}

var (
	countryCode = regexp.MustCompile(`^[A-Z]{2}$`)
	postalCode  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$`)
	e164        = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)
)

// cleanPhone drops the spaces, hyphens, dots and parentheses people type.
func cleanPhone(s string) string {
	return strings.NewReplacer(" ", "", "-", "", ".", "", "(", "", ")", "").Replace(strings.TrimSpace(s))
}

// checkAddress trims a and returns its field reasons.
func checkAddress(a *portal.Address) map[string]string {
	fields := map[string]string{}
	text := []struct {
		name     string
		v        *string
		required bool
	}{
		{"name", &a.Name, true}, {"line1", &a.Line1, true}, {"line2", &a.Line2, false},
		{"city", &a.City, true}, {"region", &a.Region, false},
	}
	for _, f := range text {
		*f.v = strings.TrimSpace(*f.v)
		switch {
		case *f.v == "" && f.required:
			fields[f.name] = portal.ReasonRequired
		case len([]rune(*f.v)) > 100:
			fields[f.name] = portal.ReasonTooLong
		}
	}
	a.Country = strings.ToUpper(strings.TrimSpace(a.Country))
	switch {
	case a.Country == "":
		fields["country"] = portal.ReasonRequired
	case !countryCode.MatchString(a.Country):
		fields["country"] = portal.ReasonInvalidFormat
	}
	a.PostalCode = strings.TrimSpace(a.PostalCode)
	if a.PostalCode != "" && !postalCode.MatchString(a.PostalCode) {
		fields["postal_code"] = portal.ReasonInvalidFormat
	}
	a.Phone = cleanPhone(a.Phone)
	if a.Phone != "" && !e164.MatchString(a.Phone) {
		fields["phone"] = portal.ReasonInvalidFormat
	}
	return fields
}

// setDefaults moves the default flags a carries from the other addresses.
func (c *customer) setDefaults(a *portal.Address) {
	for _, o := range c.addresses {
		if o == a {
			continue
		}
		if a.DefaultBilling {
			o.DefaultBilling = false
		}
		if a.DefaultShipping {
			o.DefaultShipping = false
		}
	}
}

func (s *Server) addAddress(c *call) reply {
	var in portal.Address
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	if fields := checkAddress(&in); len(fields) > 0 {
		return invalid(fields)
	}
	if len(c.cust.addresses) >= 20 {
		return conflict("an address book holds at most 20 addresses")
	}
	a := in
	a.ID = c.cust.newID("A")
	c.cust.addresses = append(c.cust.addresses, &a)
	c.cust.setDefaults(&a)
	return created(a)
}

func (s *Server) updateAddress(c *call) reply {
	var in portal.Address
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	if fields := checkAddress(&in); len(fields) > 0 {
		return invalid(fields)
	}
	for _, a := range c.cust.addresses {
		if a.ID == c.r.PathValue("id") {
			in.ID = a.ID
			*a = in
			c.cust.setDefaults(a)
			return ok(a)
		}
	}
	return notFound("no such address")
}
