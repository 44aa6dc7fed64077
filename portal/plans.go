package portal

import (
	"context"
	"net/http"
	"net/url"
)

// Plans returns the customer's plans.
func (c *Client) Plans(ctx context.Context, token string) ([]Plan, error) {
	var out struct {
		Plans []Plan `json:"plans"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/plans", token, nil, &out)
	return out.Plans, err
}

// Plan returns one of the customer's plans.
func (c *Client) Plan(ctx context.Context, token, id string) (Plan, error) {
	var p Plan
	err := c.do(ctx, http.MethodGet, planPath(id, ""), token, nil, &p)
	return p, err
}

// SetSIM moves a plan to the SIM card iccid (spaces and hyphens are
// ignored) and returns the plan. A bad number returns an *InvalidError
// (see ValidateICCID); a SIM used by another plan, or an expired plan,
// ErrConflict.
func (c *Client) SetSIM(ctx context.Context, token, planID, iccid string) (Plan, error) {
	in := struct {
		ICCID string `json:"iccid"`
	}{iccid}
	var p Plan
	err := c.do(ctx, http.MethodPut, planPath(planID, "/sim"), token, in, &p)
	return p, err
}

// SetDates changes a plan's first and last day and returns the plan. An
// end before the start (end_date=before_start), or a day already past
// (in_past), returns an *InvalidError.
func (c *Client) SetDates(ctx context.Context, token, planID string, start, end Date) (Plan, error) {
	in := struct {
		Start Date `json:"start_date"`
		End   Date `json:"end_date"`
	}{start, end}
	var p Plan
	err := c.do(ctx, http.MethodPut, planPath(planID, "/dates"), token, in, &p)
	return p, err
}

// SetVoicemail turns a plan's voicemail on or off and sets its greeting
// language, and returns the plan. An expired plan returns ErrConflict.
func (c *Client) SetVoicemail(ctx context.Context, token, planID string, v Voicemail) (Plan, error) {
	var p Plan
	err := c.do(ctx, http.MethodPut, planPath(planID, "/voicemail"), token, v, &p)
	return p, err
}

// SendAPN sends a plan's APN (mobile data) settings to the customer by SMS
// to the plan's number or by email, and says where they went.
func (c *Client) SendAPN(ctx context.Context, token, planID string, via APNChannel) (APNDelivery, error) {
	in := struct {
		Via APNChannel `json:"via"`
	}{via}
	var d APNDelivery
	err := c.do(ctx, http.MethodPost, planPath(planID, "/apn"), token, in, &d)
	return d, err
}

// Usage returns a plan's use in its current billing period.
func (c *Client) Usage(ctx context.Context, token, planID string) (Usage, error) {
	var u Usage
	err := c.do(ctx, http.MethodGet, planPath(planID, "/usage"), token, nil, &u)
	return u, err
}

// SetForwarding forwards a plan's calls to the E.164 number to (spaces,
// hyphens and parentheses are ignored) and returns the plan. A malformed
// number, or the plan's own, returns an *InvalidError for to_number; an
// expired plan ErrConflict.
func (c *Client) SetForwarding(ctx context.Context, token, planID, to string) (Plan, error) {
	in := struct {
		To string `json:"to_number"`
	}{to}
	var p Plan
	err := c.do(ctx, http.MethodPut, planPath(planID, "/forwarding"), token, in, &p)
	return p, err
}

// CancelForwarding stops forwarding a plan's calls and returns the plan.
// Cancelling when nothing is forwarded succeeds.
func (c *Client) CancelForwarding(ctx context.Context, token, planID string) (Plan, error) {
	var p Plan
	err := c.do(ctx, http.MethodDelete, planPath(planID, "/forwarding"), token, nil, &p)
	return p, err
}

// PaymentLink returns a one-time secure portal page where the customer
// enters a card for the plans planIDs. Card numbers never go through the
// API. An empty or unknown plan list returns an *InvalidError for plan_ids.
func (c *Client) PaymentLink(ctx context.Context, token string, planIDs []string) (PaymentLink, error) {
	in := struct {
		PlanIDs []string `json:"plan_ids"`
	}{planIDs}
	var l PaymentLink
	err := c.do(ctx, http.MethodPost, "/v1/payment-link", token, in, &l)
	return l, err
}

func planPath(id, sub string) string { return "/v1/plans/" + url.PathEscape(id) + sub }
