package flows

import (
	"context"
	"errors"

	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"supportbot/bot"
	"supportbot/portal"
)

// Vars of the plan journeys.
const (
	varPlan      = "plan"       // the chosen plan's id
	varGivenPlan = "given_plan" // a plan handed over by My plans
	varAction    = "action"     // what to do with it, on My plans
	varICCID     = "iccid"
	varStart     = "start"
	varEnd       = "end"
	varVoicemail = "voicemail" // Toggles: "on", and "he" or "en"
	varVia       = "via"       // APN: sms or email
	varTo        = "to"        // forwarding number, E.164
)

// Events of the plan journeys.
const (
	evExpired = "expired" // the plan has ended: its settings cannot change
	evOn      = "on"      // call forwarding is on
	evOff     = "off"     // call forwarding is off
	evSet     = "set"     // set up or change forwarding
	evStop    = "stop"    // stop forwarding
)

// maxPlanDays is the portal's limit on a plan's length.
const maxPlanDays = 366

// Voicemail toggle values.
const (
	vmOn = "on"
	vmHe = string(portal.LangHebrew)
	vmEn = string(portal.LangEnglish)
)

// planActions are the journeys My plans offers for a chosen plan.
var planActions = []string{SIM, Dates, Voicemail, APN, Usage, Forwarding}

// choosePlan are the steps every plan journey starts with: pick one of the
// customer's plans (skipped when there is only one, or My plans handed one
// over), then, for a journey that changes the plan, stop at an expired
// plan with the reason. next is the journey's first own step.
func (k *kit) choosePlan(prompt, next string, writes bool) []bot.State {
	to := next
	if writes {
		to = "check_plan"
	}
	states := []bot.State{
		{Name: "choose_plan", Prompt: prompt, Auth: true, Input: bot.List{Var: varPlan}, Enter: k.listPlans,
			On: bot.On{bot.EventNext: to, evOne: to, evEmpty: "no_plans"}},
		{Name: "no_plans", Prompt: "plan.no_plans.prompt", Input: bot.End{}},
	}
	if writes {
		states = append(states,
			bot.State{Name: "check_plan", Enter: k.checkPlan, On: bot.On{bot.EventNext: next, evExpired: "expired"}},
			bot.State{Name: "expired", Prompt: "plan.expired.prompt", Enter: k.showPlan, Input: bot.End{}})
	}
	return states
}

// confirmed are the last steps of a change: confirm (old → new, filled by
// show), save, and done showing the plan as saved. Change on the confirm
// screen, or a failure the customer can correct, goes back to edit.
func (k *kit) confirmed(flow string, show, save func(context.Context, *bot.Turn) (string, error), edit string) []bot.State {
	return []bot.State{
		{Name: "confirm", Prompt: flow + ".confirm.prompt", Enter: show, Input: bot.Confirm{},
			On: bot.On{bot.EventNext: "save", bot.EventChange: edit, bot.EventFail: edit}},
		{Name: "save", Enter: save, On: bot.On{bot.EventNext: "done", bot.EventFail: edit}},
		{Name: "done", Prompt: flow + ".done.prompt", Enter: k.showPlan, Input: bot.End{}},
	}
}

// plans (My plans): choose a plan, see it, and pick what to do with it.
func (k *kit) plans() bot.Flow {
	states := k.choosePlan("plans.choose_plan.prompt", "actions", false)
	states = append(states,
		bot.State{Name: "actions", Prompt: "plans.actions.prompt", Enter: k.planActions, Input: bot.List{Var: varAction},
			On: bot.On{bot.EventNext: "go"}},
		bot.State{Name: "go", Enter: jumpTo(planActions, varPlan), On: bot.On{bot.EventFail: "actions"}},
	)
	return bot.Flow{Name: Plans, Start: "choose_plan", Title: "plans.title", Command: "plans", Phrases: []string{"my plans", "plan", "plans", "החבילות שלי", "חבילה", "חבילות"}, Menu: bot.MenuMember,
		Events: []string{evOne, evEmpty}, States: states}
}

// sim: a new SIM card's number (ICCID) for a plan.
func (k *kit) sim() bot.Flow {
	states := k.choosePlan("sim.choose_plan.prompt", "ask_iccid", true)
	states = append(states,
		bot.State{Name: "ask_iccid", Prompt: "sim.ask_iccid.prompt", Enter: k.showPlan,
			Input: bot.Text{Check: iccid, Var: varICCID}, On: bot.On{bot.EventNext: "confirm"}},
	)
	states = append(states, k.confirmed(SIM, k.confirmSIM, k.saveSIM, "ask_iccid")...)
	return bot.Flow{Name: SIM, Start: "choose_plan", Title: "sim.title", Command: "sim", Phrases: []string{"sim", "sim card", "new sim", "iccid", "כרטיס sim", "סים", "כרטיס סים", "החלפת סים"},
		Events: []string{evOne, evEmpty, evExpired}, States: states}
}

// dates: change a plan's start date, end date or both.
func (k *kit) dates() bot.Flow {
	states := k.choosePlan("dates.choose_plan.prompt", "review", true)
	states = append(states,
		bot.State{Name: "review", Prompt: "dates.review.prompt", Enter: k.reviewDates,
			Input: bot.Review{Save: "dates.btn.continue", Fields: []bot.Field{
				{Label: "dates.btn.start", State: "pick_start"}, {Label: "dates.btn.end", State: "pick_end"}}},
			On: bot.On{bot.EventNext: "confirm"}},
		bot.State{Name: "pick_start", Prompt: "dates.pick_start.prompt", Enter: k.showPlan,
			Input: bot.Calendar{Var: varStart, Bounds: startBounds}, On: bot.On{bot.EventNext: "review"}},
		bot.State{Name: "pick_end", Prompt: "dates.pick_end.prompt", Enter: k.showPlan,
			Input: bot.Calendar{Var: varEnd, Bounds: endBounds}, On: bot.On{bot.EventNext: "review"}},
	)
	states = append(states, k.confirmed(Dates, k.confirmDates, k.saveDates, "review")...)
	return bot.Flow{Name: Dates, Start: "choose_plan", Title: "dates.title", Command: "dates", Phrases: []string{"dates", "start date", "end date", "extend", "extend my plan", "תאריך", "תאריכים", "להאריך", "הארכה", "תאריך סיום", "תאריך התחלה"},
		Events: []string{evOne, evEmpty, evExpired}, States: states}
}

// voicemail: turn voicemail on or off and choose its language.
func (k *kit) voicemail() bot.Flow {
	states := k.choosePlan("voicemail.choose_plan.prompt", "settings", true)
	states = append(states,
		bot.State{Name: "settings", Prompt: "voicemail.settings.prompt", Enter: k.voicemailOptions,
			Input: bot.Toggles{Var: varVoicemail, Done: "voicemail.btn.update"}, On: bot.On{bot.EventNext: "confirm"}},
	)
	states = append(states, k.confirmed(Voicemail, k.confirmVoicemail, k.saveVoicemail, "settings")...)
	return bot.Flow{Name: Voicemail, Start: "choose_plan", Title: "voicemail.title", Command: "voicemail", Phrases: []string{"voicemail", "voice mail", "תא קולי", "משיבון"},
		Events: []string{evOne, evEmpty, evExpired}, States: states}
}

// apn: send the plan's APN (mobile data) settings by SMS or email.
func (k *kit) apn() bot.Flow {
	states := k.choosePlan("apn.choose_plan.prompt", "how", false)
	states = append(states,
		bot.State{Name: "how", Prompt: "apn.how.prompt", Enter: k.apnOptions, Input: bot.List{Var: varVia},
			On: bot.On{bot.EventNext: "send"}},
		bot.State{Name: "send", Enter: k.sendAPN, On: bot.On{bot.EventNext: "done"}},
		bot.State{Name: "done", Prompt: "apn.done.prompt", Input: bot.End{}},
	)
	return bot.Flow{Name: APN, Start: "choose_plan", Title: "apn.title", Command: "apn", Phrases: []string{"apn", "mobile data", "internet settings", "data settings", "no internet", "הגדרות apn", "הגדרות גלישה", "אין אינטרנט", "אינטרנט"},
		Events: []string{evOne, evEmpty}, States: states}
}

// usage: minutes, SMS and data used in the billing period.
func (k *kit) usage() bot.Flow {
	states := k.choosePlan("usage.choose_plan.prompt", "show", false)
	states = append(states,
		bot.State{Name: "show", Prompt: "usage.show.prompt", Enter: k.showUsage, Input: bot.End{}},
	)
	return bot.Flow{Name: Usage, Start: "choose_plan", Title: "usage.title", Command: "usage", Phrases: []string{"usage", "how much data", "minutes left", "data left", "balance", "ניצול", "כמה גלישה", "כמה דקות", "יתרה"},
		Events: []string{evOne, evEmpty}, States: states}
}

// forwarding: see, set, change or stop call forwarding.
func (k *kit) forwarding() bot.Flow {
	states := k.choosePlan("forwarding.choose_plan.prompt", "status", true)
	states = append(states,
		bot.State{Name: "status", Enter: k.forwardingStatus, On: bot.On{evOn: "status_on", evOff: "status_off"}},
		bot.State{Name: "status_on", Prompt: "forwarding.status_on.prompt", Enter: k.showPlan,
			Buttons: []bot.Btn{{Label: "forwarding.btn.change", Event: evSet}, {Label: "forwarding.btn.stop", Event: evStop}},
			On:      bot.On{evSet: "ask_number", evStop: "confirm_stop"}},
		bot.State{Name: "status_off", Prompt: "forwarding.status_off.prompt", Enter: k.showPlan,
			Buttons: []bot.Btn{{Label: "forwarding.btn.set", Event: evSet}}, On: bot.On{evSet: "ask_number"}},
		bot.State{Name: "ask_number", Prompt: "forwarding.ask_number.prompt", Enter: k.showPlan,
			Input: bot.Text{Check: phoneNumber, Var: varTo}, On: bot.On{bot.EventNext: "check_number"}},
		bot.State{Name: "check_number", Enter: k.checkForwardTo, On: bot.On{bot.EventNext: "confirm_set", bot.EventFail: "ask_number"}},
		bot.State{Name: "confirm_set", Prompt: "forwarding.confirm_set.prompt", Enter: k.showPlan, Input: bot.Confirm{},
			On: bot.On{bot.EventNext: "save_set", bot.EventChange: "ask_number"}},
		bot.State{Name: "save_set", Enter: k.saveForwarding, On: bot.On{bot.EventNext: "done_set", bot.EventFail: "ask_number"}},
		bot.State{Name: "done_set", Prompt: "forwarding.done_set.prompt", Enter: k.showPlan, Input: bot.End{}},
		bot.State{Name: "confirm_stop", Prompt: "forwarding.confirm_stop.prompt", Enter: k.showPlan, Input: bot.Confirm{Change: "common.btn.back"},
			On: bot.On{bot.EventNext: "save_stop", bot.EventChange: "status"}},
		bot.State{Name: "save_stop", Enter: k.stopForwarding, On: bot.On{bot.EventNext: "done_stop"}},
		bot.State{Name: "done_stop", Prompt: "forwarding.done_stop.prompt", Enter: k.showPlan, Input: bot.End{}},
	)
	return bot.Flow{Name: Forwarding, Start: "choose_plan", Title: "forwarding.title", Command: "forwarding", Phrases: []string{"forward calls", "call forwarding", "forwarding", "divert calls", "הפניית שיחות", "להעביר שיחות", "העברת שיחות", "להפנות שיחות"},
		Events: []string{evOne, evEmpty, evExpired, evOn, evOff, evSet, evStop}, States: states}
}

// listPlans offers the customer's plans; one plan (or one handed over by
// My plans) is chosen without asking.
func (k *kit) listPlans(ctx context.Context, t *bot.Turn) (string, error) {
	if id := t.Var(varGivenPlan); id != "" {
		t.Set(varPlan, id)
		t.Set(varGivenPlan, "")
		return evOne, nil
	}
	plans, err := k.p.Plans(ctx, t.Session.Token)
	if err != nil {
		return "", fail(err)
	}
	switch len(plans) {
	case 0:
		return evEmpty, nil
	case 1:
		t.Set(varPlan, plans[0].ID)
		t.Cache(planKey(plans[0].ID), plans[0])
		return evOne, nil
	}
	// Each plan in full in the message, and short on its button (a long
	// button label is cut on a phone).
	lines := make([]string, 0, len(plans))
	for _, p := range plans {
		t.Cache(planKey(p.ID), p)
		d := map[string]any{"Name": p.Name, "Number": displayPhone(p.Number), "Start": t.Date(p.StartDate.Time()),
			"End": t.Date(p.EndDate.Time()), "Status": t.T("plan.status."+string(p.Status), nil)}
		lines = append(lines, t.T("plan.line", d))
		t.Options = append(t.Options, bot.Option{Value: p.ID, Label: t.T("plan.option", d)})
	}
	t.Data = map[string]any{"Plans": strings.Join(lines, "\n")}
	return "", nil
}

func planKey(id string) string { return "plan|" + id }

// plan returns the chosen plan, fetched at most once per update.
func (k *kit) plan(ctx context.Context, t *bot.Turn) (portal.Plan, error) {
	id := t.Var(varPlan)
	if v, ok := t.Cached(planKey(id)); ok {
		return v.(portal.Plan), nil
	}
	p, err := k.p.Plan(ctx, t.Session.Token, id)
	if err != nil {
		return p, fail(err)
	}
	t.Cache(planKey(id), p)
	return p, nil
}

// planData is what every plan screen can show of a plan.
func planData(t *bot.Turn, p portal.Plan) map[string]any {
	vm := t.T("plan.voicemail.off", nil)
	if p.Voicemail.Enabled {
		vm = t.T("plan.voicemail.on", map[string]any{"Lang": t.T("plan.lang."+string(p.Voicemail.Lang), nil)})
	}
	fwd := t.T("plan.forwarding.off", nil)
	if p.Forwarding.Enabled {
		fwd = t.T("plan.forwarding.on", map[string]any{"To": displayPhone(p.Forwarding.To)})
	}
	return map[string]any{
		"Name": p.Name, "Number": displayPhone(p.Number), "ICCID": groupDigits(p.ICCID),
		"Start": t.Date(p.StartDate.Time()), "End": t.Date(p.EndDate.Time()),
		"Status": t.T("plan.status."+string(p.Status), nil), "VoicemailState": vm, "ForwardingState": fwd,
		"Email": t.Session.Email,
	}
}

// showPlan fills a prompt with the chosen plan.
func (k *kit) showPlan(ctx context.Context, t *bot.Turn) (string, error) {
	p, err := k.plan(ctx, t)
	if err != nil {
		return "", err
	}
	t.Data = planData(t, p)
	return "", nil
}

func (k *kit) checkPlan(ctx context.Context, t *bot.Turn) (string, error) {
	p, err := k.plan(ctx, t)
	if err != nil {
		return "", err
	}
	if p.Status == portal.PlanExpired {
		return evExpired, nil
	}
	return bot.EventNext, nil
}

func (k *kit) planActions(ctx context.Context, t *bot.Turn) (string, error) {
	if _, err := k.showPlan(ctx, t); err != nil {
		return "", err
	}
	for _, a := range planActions {
		t.Options = append(t.Options, bot.Option{Value: a, Label: t.T(a+".title", nil)})
	}
	return "", nil
}

// write marks ctx with the flow's Idempotency-Key, so a retried write is
// applied once.
func write(ctx context.Context, t *bot.Turn) context.Context {
	return portal.WithIdempotencyKey(ctx, t.WriteKey())
}

// saved remembers the plan a write returned, for the screens after it.
func saved(t *bot.Turn, p portal.Plan) {
	t.Cache(planKey(p.ID), p)
}

// writeFail maps a failed plan write: a plan that ended meanwhile is
// explained; everything else goes the usual way (try again).
func writeFail(t *bot.Turn, p portal.Plan, err error) error {
	if errors.Is(err, portal.ErrConflict) {
		return &bot.UserError{MsgID: "plan.conflict", Data: map[string]any{"Name": p.Name}, Err: err}
	}
	return fail(err)
}

// invalidField returns the portal's reason for field, if it rejected it.
func invalidField(err error, field string) string {
	var inv *portal.InvalidError
	if errors.As(err, &inv) {
		return inv.Fields[field]
	}
	return ""
}

// SIM

func (k *kit) confirmSIM(ctx context.Context, t *bot.Turn) (string, error) {
	p, err := k.plan(ctx, t)
	if err != nil {
		return "", err
	}
	if p.ICCID == t.Var(varICCID) {
		t.Say("sim.same", map[string]any{"ICCID": p.ICCID})
		return bot.EventFail, nil
	}
	t.Data = planData(t, p)
	t.Data["Old"], t.Data["New"] = groupDigits(p.ICCID), groupDigits(t.Var(varICCID))
	return "", nil
}

func (k *kit) saveSIM(ctx context.Context, t *bot.Turn) (string, error) {
	p, err := k.p.SetSIM(write(ctx, t), t.Session.Token, t.Var(varPlan), t.Var(varICCID))
	switch {
	case err == nil:
		saved(t, p)
		return bot.EventNext, nil
	case invalidField(err, "iccid") != "":
		t.Say(iccidProblem(invalidField(err, "iccid")), nil)
		return bot.EventFail, nil
	case errors.Is(err, portal.ErrConflict):
		// The plan was checked as current a step ago: the card is taken.
		t.Say("sim.taken", map[string]any{"ICCID": groupDigits(t.Var(varICCID))})
		return bot.EventFail, nil
	}
	return "", fail(err)
}

// iccidProblem names the portal's reason for refusing an ICCID.
func iccidProblem(reason string) string {
	switch reason {
	case portal.ReasonChecksum:
		return "sim.ask_iccid.checksum"
	case portal.ReasonRequired:
		return "common.input.empty"
	}
	return "sim.ask_iccid.invalid"
}

// groupDigits shows a long number in groups of four, easier to compare.
func groupDigits(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Dates

// startBounds: a start date from today, at most a year ahead.
func startBounds(t *bot.Turn) bot.Bounds {
	return bot.Bounds{Min: t.Today(), Max: t.Today().AddDate(1, 0, 0), Early: "dates.start_in_past", Late: "dates.start_too_late"}
}

// endBounds: an end date not in the past, not before the start, and at
// most 366 days after it.
func endBounds(t *bot.Turn) bot.Bounds {
	b := bot.Bounds{Min: t.Today(), Early: "dates.end_in_past", Late: "dates.too_long"}
	if start, ok := bot.ParseDate(t.Var(varStart)); ok {
		if start.After(b.Min) {
			b.Min, b.Early = start, "dates.end_before_start"
		}
		b.Max = start.AddDate(0, 0, maxPlanDays)
	}
	return b
}

func (k *kit) reviewDates(ctx context.Context, t *bot.Turn) (string, error) {
	p, err := k.plan(ctx, t)
	if err != nil {
		return "", err
	}
	if !t.Has(varStart) {
		t.Set(varStart, p.StartDate.String())
		t.Set(varEnd, p.EndDate.String())
	}
	t.Data = planData(t, p)
	t.Data["NewStart"], t.Data["NewEnd"] = t.Date(parsed(t.Var(varStart)).Time()), t.Date(parsed(t.Var(varEnd)).Time())
	return "", nil
}

func parsed(s string) portal.Date {
	d, _ := portal.ParseDate(s)
	return d
}

func (k *kit) confirmDates(ctx context.Context, t *bot.Turn) (string, error) {
	p, err := k.plan(ctx, t)
	if err != nil {
		return "", err
	}
	start, end := parsed(t.Var(varStart)), parsed(t.Var(varEnd))
	data := map[string]any{"Start": t.Date(start.Time()), "End": t.Date(end.Time())}
	switch {
	case start == p.StartDate && end == p.EndDate:
		t.Say("dates.unchanged", nil)
		return bot.EventFail, nil
	case end.Before(start):
		t.Say("dates.end_before_start", map[string]any{"Min": t.Date(start.Time())})
		return bot.EventFail, nil
	case end.Time().Sub(start.Time()).Hours()/24 > maxPlanDays:
		t.Say("dates.too_long", map[string]any{"Max": t.Date(start.AddDays(maxPlanDays).Time())})
		return bot.EventFail, nil
	}
	t.Data = planData(t, p)
	t.Data["OldStart"], t.Data["OldEnd"] = t.Data["Start"], t.Data["End"]
	t.Data["NewStart"], t.Data["NewEnd"] = data["Start"], data["End"]
	return "", nil
}

func (k *kit) saveDates(ctx context.Context, t *bot.Turn) (string, error) {
	start, end := parsed(t.Var(varStart)), parsed(t.Var(varEnd))
	p, err := k.p.SetDates(write(ctx, t), t.Session.Token, t.Var(varPlan), start, end)
	if err == nil {
		saved(t, p)
		return bot.EventNext, nil
	}
	today := portal.DateOf(t.Today())
	switch {
	case invalidField(err, "start_date") == portal.ReasonInPast:
		t.Say("dates.start_in_past", map[string]any{"Min": t.Date(today.Time())})
	case invalidField(err, "end_date") == portal.ReasonBeforeStart:
		t.Say("dates.end_before_start", map[string]any{"Min": t.Date(start.Time())})
	case invalidField(err, "end_date") == portal.ReasonInPast:
		t.Say("dates.end_in_past", map[string]any{"Min": t.Date(today.Time())})
	case invalidField(err, "end_date") == portal.ReasonOutOfRange:
		t.Say("dates.too_long", map[string]any{"Max": t.Date(start.AddDays(maxPlanDays).Time())})
	default:
		return "", writeFail(t, portal.Plan{Name: t.Var(varPlan)}, err)
	}
	return bot.EventFail, nil
}

// Voicemail

func (k *kit) voicemailOptions(ctx context.Context, t *bot.Turn) (string, error) {
	p, err := k.plan(ctx, t)
	if err != nil {
		return "", err
	}
	if !t.Has(varVoicemail) {
		t.Set(varVoicemail, voicemailSet(p.Voicemail))
	}
	t.Data = planData(t, p)
	t.Options = []bot.Option{
		{Value: vmOn, Label: t.T("voicemail.opt.on", nil)},
		{Value: vmHe, Label: t.T("plan.lang.he", nil), Group: "lang"},
		{Value: vmEn, Label: t.T("plan.lang.en", nil), Group: "lang"},
	}
	return "", nil
}

// voicemailSet is a Voicemail as the Toggles value.
func voicemailSet(v portal.Voicemail) string {
	lang := string(v.Lang)
	if lang != vmEn {
		lang = vmHe
	}
	if v.Enabled {
		return vmOn + "," + lang
	}
	return lang
}

// voicemailOf reads the Toggles value back.
func voicemailOf(set string) portal.Voicemail {
	v := portal.Voicemail{Lang: portal.LangHebrew}
	for _, s := range strings.Split(set, ",") {
		switch s {
		case vmOn:
			v.Enabled = true
		case vmEn:
			v.Lang = portal.LangEnglish
		}
	}
	return v
}

func voicemailText(t *bot.Turn, v portal.Voicemail) string {
	return t.T(map[bool]string{true: "voicemail.state_on", false: "voicemail.state_off"}[v.Enabled],
		map[string]any{"Lang": t.T("plan.lang."+string(v.Lang), nil)})
}

func (k *kit) confirmVoicemail(ctx context.Context, t *bot.Turn) (string, error) {
	p, err := k.plan(ctx, t)
	if err != nil {
		return "", err
	}
	want := voicemailOf(t.Var(varVoicemail))
	if want == p.Voicemail {
		t.Say("voicemail.unchanged", nil)
		return bot.EventFail, nil
	}
	t.Data = planData(t, p)
	t.Data["Old"], t.Data["New"] = voicemailText(t, p.Voicemail), voicemailText(t, want)
	return "", nil
}

func (k *kit) saveVoicemail(ctx context.Context, t *bot.Turn) (string, error) {
	p, err := k.p.SetVoicemail(write(ctx, t), t.Session.Token, t.Var(varPlan), voicemailOf(t.Var(varVoicemail)))
	if err != nil {
		return "", writeFail(t, p, err)
	}
	saved(t, p)
	return bot.EventNext, nil
}

// APN

func (k *kit) apnOptions(ctx context.Context, t *bot.Turn) (string, error) {
	p, err := k.plan(ctx, t)
	if err != nil {
		return "", err
	}
	t.NewWriteKey() // each visit here may send the settings once
	t.Data = planData(t, p)
	t.Options = []bot.Option{
		{Value: string(portal.APNBySMS), Label: t.T("apn.opt.sms", map[string]any{"Number": displayPhone(p.Number)})},
		{Value: string(portal.APNByEmail), Label: t.T("apn.opt.email", map[string]any{"Email": t.Session.Email})},
	}
	return "", nil
}

func (k *kit) sendAPN(ctx context.Context, t *bot.Turn) (string, error) {
	via := portal.APNChannel(t.Var(varVia))
	if via != portal.APNBySMS && via != portal.APNByEmail {
		return "", &bot.UserError{MsgID: "error.rejected"}
	}
	d, err := k.p.SendAPN(write(ctx, t), t.Session.Token, t.Var(varPlan), via)
	if err != nil {
		return "", fail(err)
	}
	to := d.To
	if d.Via == portal.APNBySMS {
		to = displayPhone(to)
	}
	t.Set("sent_to", to)
	t.Set("sent_via", t.T("apn.via."+string(d.Via), nil))
	return bot.EventNext, nil
}

// Usage

func (k *kit) showUsage(ctx context.Context, t *bot.Turn) (string, error) {
	p, err := k.plan(ctx, t)
	if err != nil {
		return "", err
	}
	u, err := k.p.Usage(ctx, t.Session.Token, p.ID)
	if err != nil {
		return "", fail(err)
	}
	lines := []string{
		usageLine(t, "usage.minutes", u.Minutes, u.MinutesLimit, func(n int) string { return t.N("common.minutes", n, map[string]any{"Count": thousands(n)}) }),
		usageLine(t, "usage.sms", u.SMS, u.SMSLimit, func(n int) string { return t.N("usage.sms_count", n, map[string]any{"Count": thousands(n)}) }),
		usageLine(t, "usage.data", u.DataMB, u.DataLimitMB, func(n int) string { return dataSize(t, n) }),
	}
	t.Data = planData(t, p)
	t.Data["Lines"] = strings.Join(lines, "\n")
	t.Data["From"], t.Data["To"] = t.Date(u.PeriodStart.Time()), t.Date(u.PeriodEnd.Time())
	t.Data["Updated"] = t.DateTime(u.UpdatedAt)
	return "", nil
}

// usageLine is one allowance: a bar and the amounts, or "unlimited".
func usageLine(t *bot.Turn, what string, used, limit int, amount func(int) string) string {
	if limit <= 0 {
		return t.T("usage.line_unlimited", map[string]any{"What": t.T(what, nil), "Used": amount(used)})
	}
	pct := used * 100 / limit
	return t.T("usage.line", map[string]any{"What": t.T(what, nil), "Bar": bar(used, limit),
		"Used": amount(used), "Limit": amount(limit), "Percent": strconv.Itoa(pct)})
}

// bar draws used of limit as ten cells.
func bar(used, limit int) string {
	n := min(used*10/limit, 10)
	if used > 0 && n == 0 {
		n = 1
	}
	return strings.Repeat("▰", n) + strings.Repeat("▱", 10-n)
}

// dataSize shows megabytes, or gigabytes from 1 GB up.
func dataSize(t *bot.Turn, mb int) string {
	if mb >= 1024 {
		gb := float64(mb) / 1024
		s := strconv.FormatFloat(gb, 'f', 1, 64)
		s = strings.TrimSuffix(s, ".0")
		return t.T("usage.gb", map[string]any{"N": s})
	}
	return t.T("usage.mb", map[string]any{"N": thousands(mb)})
}

// thousands writes n with "," between thousands.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Call forwarding

func (k *kit) forwardingStatus(ctx context.Context, t *bot.Turn) (string, error) {
	p, err := k.plan(ctx, t)
	if err != nil {
		return "", err
	}
	if p.Forwarding.Enabled {
		return evOn, nil
	}
	return evOff, nil
}

func (k *kit) checkForwardTo(ctx context.Context, t *bot.Turn) (string, error) {
	p, err := k.plan(ctx, t)
	if err != nil {
		return "", err
	}
	to := t.Var(varTo)
	switch {
	case to == p.Number:
		t.Say("forwarding.same_number", map[string]any{"Number": displayPhone(p.Number)})
		return bot.EventFail, nil
	case p.Forwarding.Enabled && to == p.Forwarding.To:
		t.Say("forwarding.already", map[string]any{"To": displayPhone(to)})
		return bot.EventFail, nil
	}
	t.Set("new_to", displayPhone(to))
	return bot.EventNext, nil
}

func (k *kit) saveForwarding(ctx context.Context, t *bot.Turn) (string, error) {
	p, err := k.p.SetForwarding(write(ctx, t), t.Session.Token, t.Var(varPlan), t.Var(varTo))
	switch {
	case err == nil:
		saved(t, p)
		return bot.EventNext, nil
	case invalidField(err, "to_number") == portal.ReasonSameAsPlan:
		t.Say("forwarding.same_number", map[string]any{"Number": displayPhone(t.Var(varTo))})
		return bot.EventFail, nil
	case invalidField(err, "to_number") != "":
		t.Say("forwarding.ask_number.invalid", nil)
		return bot.EventFail, nil
	}
	return "", writeFail(t, p, err)
}

func (k *kit) stopForwarding(ctx context.Context, t *bot.Turn) (string, error) {
	p, err := k.p.CancelForwarding(write(ctx, t), t.Session.Token, t.Var(varPlan))
	if err != nil {
		return "", writeFail(t, p, err)
	}
	saved(t, p)
	return bot.EventNext, nil
}

// displayPhone shows an E.164 number the international way:
// +972 52-345-6780, +1 212-555-0147.
func displayPhone(e164 string) string {
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return e164
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}
