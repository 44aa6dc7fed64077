package demo

import (
	"net/http"
	"net/mail"
	"strings"

	"supportbot/portal"
)

// validEmail is the backend's email rule: one plain address, no display name.
func validEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " <>\"") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".")
}

// emailReason is "" for a good email, else a field reason.
func emailReason(s string) string {
	switch {
	case s == "":
		return portal.ReasonRequired
	case !validEmail(s):
		return portal.ReasonInvalidFormat
	}
	return ""
}

func (s *Server) login(c *call) reply {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	fields := map[string]string{}
	if strings.TrimSpace(in.Email) == "" {
		fields["email"] = portal.ReasonRequired
	}
	if in.Password == "" {
		fields["password"] = portal.ReasonRequired
	}
	if len(fields) > 0 {
		return invalid(fields)
	}
	cu := s.customerByEmail(in.Email)
	if cu == nil || cu.password != in.Password {
		return fail(http.StatusUnauthorized, portal.CodeUnauthorized, "wrong email or password")
	}
	tok := s.newToken(cu.ID)
	return ok(portal.Auth{Token: tok, Customer: cu.Customer})
}

func (s *Server) logout(c *call) reply {
	s.revoke(c.token)
	return noContent()
}

func (s *Server) passwordReset(c *call) reply {
	var in struct {
		Email string `json:"email"`
	}
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	email := strings.TrimSpace(in.Email)
	if r := emailReason(email); r != "" {
		return invalid(map[string]string{"email": r})
	}
	// A real backend emails a link when the account exists; the answer is
	// the same either way.
	s.resets = append(s.resets, strings.ToLower(email))
	return reply{status: http.StatusAccepted}
}

func (s *Server) me(c *call) reply { return ok(c.cust.Customer) }

func (s *Server) updateMe(c *call) reply {
	var in struct {
		Name  *string `json:"name"`
		Email *string `json:"email"`
		Lang  *string `json:"lang"`
	}
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	fields := map[string]string{}
	var name, email string
	if in.Name != nil {
		name = strings.TrimSpace(*in.Name)
		switch {
		case name == "":
			fields["name"] = portal.ReasonRequired
		case len([]rune(name)) > 100:
			fields["name"] = portal.ReasonTooLong
		}
	}
	if in.Email != nil {
		email = strings.TrimSpace(*in.Email)
		if r := emailReason(email); r != "" {
			fields["email"] = r
		}
	}
	if in.Lang != nil && !validLang(*in.Lang) {
		fields["lang"] = portal.ReasonInvalidFormat
	}
	if len(fields) > 0 {
		return invalid(fields)
	}
	if in.Email != nil && !strings.EqualFold(email, c.cust.Email) {
		if other := s.customerByEmail(email); other != nil && other != c.cust {
			return conflict("the email address belongs to another account")
		}
		delete(s.byEmail, strings.ToLower(c.cust.Email))
		c.cust.Email = email
		s.byEmail[strings.ToLower(email)] = c.cust.ID
	}
	if in.Name != nil {
		c.cust.Name = name
	}
	if in.Lang != nil {
		c.cust.Lang = portal.Lang(*in.Lang)
	}
	return ok(c.cust.Customer)
}

func validLang(l string) bool {
	return l == string(portal.LangHebrew) || l == string(portal.LangEnglish)
}

func (s *Server) changePassword(c *call) reply {
	var in struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	fields := map[string]string{}
	switch {
	case in.Current == "":
		fields["current_password"] = portal.ReasonRequired
	case in.Current != c.cust.password:
		fields["current_password"] = portal.ReasonIncorrect
	}
	switch n := len([]rune(in.New)); {
	case n == 0:
		fields["new_password"] = portal.ReasonRequired
	case n < 8:
		fields["new_password"] = portal.ReasonTooShort
	case n > 128:
		fields["new_password"] = portal.ReasonTooLong
	}
	if len(fields) > 0 {
		return invalid(fields)
	}
	c.cust.password = in.New
	return noContent()
}
