package bot

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Israel time on a machine without a zone database
)

// blank labels an empty calendar cell: a Braille blank, which shows as
// nothing but, unlike a space, is a label Telegram accepts.
const blank = "\u2800"

// DateLayout is how a Calendar stores a date in Vars.
const DateLayout = "2006-01-02"

// Israel is the time zone dates are shown and chosen in.
var Israel = mustZone("Asia/Jerusalem")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // time/tzdata is embedded: cannot happen
	}
	return loc
}

// Bounds are the days a Calendar lets the customer choose, inclusive. A
// zero Min or Max leaves that side open. Early and Late are message IDs
// (data: Min, Max as dates) explaining a typed day outside the range; the
// defaults are calendar.too_early and calendar.too_late.
type Bounds struct {
	Min, Max    time.Time
	Early, Late string
}

// Calendar asks for a day: an inline month grid (weeks start on Sunday,
// days outside Bounds cannot be pressed, months can be paged) or a date
// typed as 2027-03-20, 20/03/2027 or 20.3.2027 (day first). The day is
// stored in Vars[Var] as 2006-01-02 and fires next. The month shown is the
// one the customer last paged to in this step, else that of the day already
// in Vars[Var], else of Bounds.Min, else today's.
type Calendar struct {
	Var         string
	Bounds      func(t *Turn) Bounds
	MaxAttempts int
}

func (in Calendar) check(_ *Flow, s *State) error {
	if in.Var == "" {
		return errors.New("calendar without a Var")
	}
	return needNext(s)
}

func (Calendar) messageIDs() []string {
	ids := []string{"calendar.month_year", "calendar.invalid", "calendar.too_early", "calendar.too_late", "calendar.unavailable"}
	for i := 0; i < 7; i++ {
		ids = append(ids, "calendar.weekday."+strconv.Itoa(i))
	}
	for i := 1; i <= 12; i++ {
		ids = append(ids, "calendar.month."+strconv.Itoa(i))
	}
	return ids
}

func (Calendar) traits() traits { return traits{form: true} }

func (in Calendar) bounds(t *Turn) Bounds {
	var b Bounds
	if in.Bounds != nil {
		b = in.Bounds(t)
	}
	if b.Early == "" {
		b.Early = "calendar.too_early"
	}
	if b.Late == "" {
		b.Late = "calendar.too_late"
	}
	b.Min, b.Max = day(b.Min), day(b.Max)
	return b
}

// day drops the time of day: dates are compared as calendar days.
func day(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func (b Bounds) allows(d time.Time) bool {
	return (b.Min.IsZero() || !d.Before(b.Min)) && (b.Max.IsZero() || !d.After(b.Max))
}

// monthIndex numbers months for the frame's Pages: year*12 + month-1.
func monthIndex(d time.Time) int { return d.Year()*12 + int(d.Month()) - 1 }

func monthOf(i int) time.Time { return time.Date(i/12, time.Month(i%12+1), 1, 0, 0, 0, 0, time.UTC) }

func (in Calendar) shownMonth(at step, t *Turn, b Bounds) int {
	if m := at.fr.Pages[at.s.Name]; m > 0 {
		return m
	}
	if d, err := time.Parse(DateLayout, at.fr.Vars[in.Var]); err == nil && b.allows(d) {
		return monthIndex(d)
	}
	if !b.Min.IsZero() {
		return monthIndex(b.Min)
	}
	return monthIndex(t.Today())
}

func (in Calendar) draw(r *run, at step, t *Turn, o *out) error {
	b := in.bounds(t)
	m := in.shownMonth(at, t, b)
	first := monthOf(m)
	data := func(kind, v string) string { return callbackData(at.f.Name, at.s.Name, kind, v) }
	noop := data(kindNoop, "")
	// The month, with arrows to the months that have days to choose.
	prev, next := btn{text: blank, data: noop}, btn{text: blank, data: noop}
	if b.Min.IsZero() || monthIndex(b.Min) < m {
		prev = btn{text: "◀️", data: data(kindMonth, monthOf(m-1).Format("2006-01"))}
	}
	if b.Max.IsZero() || monthIndex(b.Max) > m {
		next = btn{text: "▶️", data: data(kindMonth, monthOf(m+1).Format("2006-01"))}
	}
	if r.lang == "he" { // in Hebrew the next month is on the left
		prev.text, next.text = strings.Replace(prev.text, "◀️", "▶️", 1), strings.Replace(next.text, "▶️", "◀️", 1)
	}
	title := t.T("calendar.month_year", map[string]any{
		"Month": t.T("calendar.month."+strconv.Itoa(int(first.Month())), nil), "Year": strconv.Itoa(first.Year())})
	o.buttons = append(o.buttons, r.readingOrder([]btn{prev, {text: title, data: noop}, next}))
	week := make([]btn, 7)
	for i := range week {
		week[i] = btn{text: t.T("calendar.weekday."+strconv.Itoa(i), nil), data: noop}
	}
	o.buttons = append(o.buttons, r.readingOrder(week))
	// Weeks from Sunday; blanks before the 1st and after the last day.
	row := make([]btn, 0, 7)
	for i := 0; i < int(first.Weekday()); i++ {
		row = append(row, btn{text: blank, data: noop})
	}
	for d := first; d.Month() == first.Month(); d = d.AddDate(0, 0, 1) {
		if b.allows(d) {
			row = append(row, btn{text: strconv.Itoa(d.Day()), data: data(kindDay, d.Format(DateLayout))})
		} else { // shown, but not to be chosen: a press says why
			row = append(row, btn{text: "·", data: data(kindNoop, d.Format(DateLayout))})
		}
		if len(row) == 7 {
			o.buttons = append(o.buttons, r.readingOrder(row))
			row = make([]btn, 0, 7)
		}
	}
	if len(row) > 0 {
		for len(row) < 7 {
			row = append(row, btn{text: blank, data: noop})
		}
		o.buttons = append(o.buttons, r.readingOrder(row))
	}
	return nil
}

func (in Calendar) typed(ctx context.Context, r *run, at step, text string) error {
	d, ok := ParseDate(text)
	if !ok {
		return r.reject(ctx, at, "calendar.invalid", nil, in.MaxAttempts)
	}
	t := r.turn(at.fr)
	b := in.bounds(t)
	if !b.allows(d) {
		id := b.Early
		if !b.Max.IsZero() && d.After(b.Max) {
			id = b.Late
		}
		return r.reject(ctx, at, id, in.rangeData(t, b), in.MaxAttempts)
	}
	return r.accept(ctx, at, in.Var, d.Format(DateLayout))
}

func (in Calendar) rangeData(t *Turn, b Bounds) map[string]any {
	data := map[string]any{}
	if !b.Min.IsZero() {
		data["Min"] = t.Date(b.Min)
	}
	if !b.Max.IsZero() {
		data["Max"] = t.Date(b.Max)
	}
	return data
}

func (in Calendar) press(ctx context.Context, r *run, at step, kind, val string) (bool, error) {
	t := r.turn(at.fr)
	b := in.bounds(t)
	switch kind {
	case kindDay:
		d, err := time.Parse(DateLayout, val)
		if err != nil {
			return false, nil
		}
		if !b.allows(d) { // an old calendar: the range has moved since
			r.say("calendar.unavailable", in.rangeData(t, b))
			return true, r.enter(ctx)
		}
		return true, r.accept(ctx, at, in.Var, val)
	case kindMonth:
		m, err := time.Parse("2006-01", val)
		if err != nil || (!b.Min.IsZero() && monthIndex(m) < monthIndex(b.Min)) || (!b.Max.IsZero() && monthIndex(m) > monthIndex(b.Max)) {
			return false, nil // forged, or a month with nothing to choose
		}
		if at.fr.Pages == nil {
			at.fr.Pages = map[string]int{}
		}
		at.fr.Pages[at.s.Name] = monthIndex(m)
		r.editID = r.in.MessageID
		return true, r.enter(ctx)
	case kindNoop:
		// A title, weekday or blank cell does nothing; a day outside the
		// range says so. Either way the calendar stays where it is.
		if val != "" {
			r.say("calendar.unavailable", in.rangeData(t, b))
		}
		r.editID = r.in.MessageID
		return true, r.enter(ctx)
	}
	return false, nil
}

var (
	isoDate   = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})$`)
	dayFirst  = regexp.MustCompile(`^(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})$`)
	spaceRuns = regexp.MustCompile(`\s+`)
)

// ParseDate reads a typed day: 2027-03-20, or day first as customers in
// Israel write it: 20/03/2027, 20.3.2027, 20-3-27. It reports false for
// anything else, including days that do not exist (31/02/2027).
func ParseDate(text string) (time.Time, bool) {
	s := spaceRuns.ReplaceAllString(strings.TrimSpace(text), "")
	var y, m, d string
	if p := isoDate.FindStringSubmatch(s); p != nil {
		y, m, d = p[1], p[2], p[3]
	} else if p := dayFirst.FindStringSubmatch(s); p != nil {
		d, m, y = p[1], p[2], p[3]
		if len(y) == 2 {
			y = "20" + y
		}
	} else {
		return time.Time{}, false
	}
	yi, _ := strconv.Atoi(y)
	mi, _ := strconv.Atoi(m)
	di, _ := strconv.Atoi(d)
	t := time.Date(yi, time.Month(mi), di, 0, 0, 0, 0, time.UTC)
	if t.Year() != yi || int(t.Month()) != mi || t.Day() != di {
		return time.Time{}, false
	}
	return t, true
}
