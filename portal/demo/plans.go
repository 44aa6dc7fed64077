package demo

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"supportbot/portal"
)

// Plan date limits.
const maxPlanDays = 366

// paymentLinkTTL is how long a payment link stays valid.
const paymentLinkTTL = 30 * time.Minute

func (c *customer) plan(id string) *plan {
	for _, p := range c.plans {
		if p.ID == id {
			return p
		}
	}
	return nil
}

func (s *Server) listPlans(c *call) reply {
	out := []portal.Plan{}
	for _, p := range c.cust.plans {
		out = append(out, p.Plan)
	}
	return ok(map[string]any{"plans": out})
}

// withPlan runs h with the caller's plan named in the path, or answers 404.
func withPlan(h func(*call, *plan) reply) func(*call) reply {
	return func(c *call) reply {
		p := c.cust.plan(c.r.PathValue("id"))
		if p == nil {
			return notFound("no such plan")
		}
		return h(c, p)
	}
}

func (s *Server) getPlan(c *call, p *plan) reply { return ok(p.Plan) }

func (s *Server) getUsage(c *call, p *plan) reply { return ok(p.usage) }

func expired(p *plan) *reply {
	if p.Status == portal.PlanExpired {
		rep := conflict("the plan has expired")
		return &rep
	}
	return nil
}

func (s *Server) setSIM(c *call, p *plan) reply {
	var in struct {
		ICCID string `json:"iccid"`
	}
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	var inv *portal.InvalidError
	if errors.As(portal.ValidateICCID(in.ICCID), &inv) {
		return invalid(inv.Fields)
	}
	if rep := expired(p); rep != nil {
		return *rep
	}
	iccid := portal.CleanICCID(in.ICCID)
	for _, o := range s.plans {
		if o != p && o.ICCID == iccid {
			return conflict("the SIM card belongs to another plan")
		}
	}
	p.ICCID = iccid
	return ok(p.Plan)
}

func (s *Server) setDates(c *call, p *plan) reply {
	var in struct {
		Start string `json:"start_date"`
		End   string `json:"end_date"`
	}
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	today := portal.DateOf(s.now().UTC())
	fields := map[string]string{}
	date := func(name, v string) portal.Date {
		if v == "" {
			fields[name] = portal.ReasonRequired
			return portal.Date{}
		}
		d, err := portal.ParseDate(v)
		if err != nil {
			fields[name] = portal.ReasonInvalidFormat
		}
		return d
	}
	start, end := date("start_date", in.Start), date("end_date", in.End)
	if len(fields) == 0 {
		switch {
		case start != p.StartDate && start.Before(today):
			fields["start_date"] = portal.ReasonInPast
		case end.Before(start):
			fields["end_date"] = portal.ReasonBeforeStart
		case end.Before(today):
			fields["end_date"] = portal.ReasonInPast
		case end.Time().Sub(start.Time()) > maxPlanDays*24*time.Hour:
			fields["end_date"] = portal.ReasonOutOfRange
		}
	}
	if len(fields) > 0 {
		return invalid(fields)
	}
	p.StartDate, p.EndDate = start, end
	if p.Status != portal.PlanSuspended {
		switch {
		case today.Before(start):
			p.Status = portal.PlanPending
		case today.After(end):
			p.Status = portal.PlanExpired
		default:
			p.Status = portal.PlanActive
		}
	}
	return ok(p.Plan)
}

func (s *Server) setVoicemail(c *call, p *plan) reply {
	var in struct {
		Enabled *bool  `json:"enabled"`
		Lang    string `json:"lang"`
	}
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	fields := map[string]string{}
	if in.Enabled == nil {
		fields["enabled"] = portal.ReasonRequired
	}
	if in.Lang != "" && !validLang(in.Lang) {
		fields["lang"] = portal.ReasonInvalidFormat
	}
	if len(fields) > 0 {
		return invalid(fields)
	}
	if rep := expired(p); rep != nil {
		return *rep
	}
	p.Voicemail.Enabled = *in.Enabled
	if in.Lang != "" {
		p.Voicemail.Lang = portal.Lang(in.Lang)
	}
	return ok(p.Plan)
}

func (s *Server) sendAPN(c *call, p *plan) reply {
	var in struct {
		Via portal.APNChannel `json:"via"`
	}
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	d := portal.APNDelivery{Via: in.Via}
	switch in.Via {
	case portal.APNBySMS:
		d.To = p.Number
	case portal.APNByEmail:
		d.To = c.cust.Email
	case "":
		return invalid(map[string]string{"via": portal.ReasonRequired})
	default:
		return invalid(map[string]string{"via": portal.ReasonInvalidFormat})
	}
	return reply{http.StatusAccepted, d}
}

func (s *Server) setForwarding(c *call, p *plan) reply {
	var in struct {
		To string `json:"to_number"`
	}
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	to := cleanPhone(in.To)
	switch {
	case to == "":
		return invalid(map[string]string{"to_number": portal.ReasonRequired})
	case !e164.MatchString(to):
		return invalid(map[string]string{"to_number": portal.ReasonInvalidFormat})
	case to == p.Number:
		return invalid(map[string]string{"to_number": portal.ReasonSameAsPlan})
	}
	if rep := expired(p); rep != nil {
		return *rep
	}
	p.Forwarding = portal.Forwarding{Enabled: true, To: to}
	return ok(p.Plan)
}

func (s *Server) cancelForwarding(c *call, p *plan) reply {
	p.Forwarding = portal.Forwarding{}
	return ok(p.Plan)
}

func (s *Server) paymentLink(c *call) reply {
	var in struct {
		PlanIDs []string `json:"plan_ids"`
	}
	if rep := c.decode(&in); rep != nil {
		return *rep
	}
	if len(in.PlanIDs) == 0 {
		return invalid(map[string]string{"plan_ids": portal.ReasonRequired})
	}
	for _, id := range in.PlanIDs {
		if c.cust.plan(id) == nil {
			return invalid(map[string]string{"plan_ids": portal.ReasonUnknown})
		}
	}
	// Deterministic for a given sequence of calls, so transcripts are
	// stable; a real backend uses a random single-use token.
	s.links++
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%d", c.cust.ID, strings.Join(in.PlanIDs, ","), s.links)))
	return created(portal.PaymentLink{
		URL:       "https://portal.demo.example/pay/" + hex.EncodeToString(sum[:12]),
		ExpiresAt: s.now().UTC().Add(paymentLinkTTL).Truncate(time.Second),
	})
}
