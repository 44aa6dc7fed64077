package bot_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-cmp/cmp"
	"github.com/nicksnyder/go-i18n/v2/i18n"

	"supportbot/bot"
	"supportbot/store"
)

// This file drives the flow kit's input kinds through the real Engine and a
// real bbolt store, with small flows made for each kind.

// kitNow is the engine clock of the kit tests: 15 Apr 2026, noon in Israel.
var kitNow = time.Date(2026, 4, 15, 9, 0, 0, 0, time.UTC)

// kitMessages are the test flows' messages, added to the bundle in both
// languages.
func kitMessages() []*i18n.Message {
	return []*i18n.Message{
		{ID: "k.pick", Other: "Pick a day"},
		{ID: "k.early", Other: "Not before {{.Min}}"},
		{ID: "k.late", Other: "Not after {{.Max}}"},
		{ID: "k.then", Other: "Anything else?"},
		{ID: "k.end", Other: "All done"},
		{ID: "k.opts", Other: "Choose options"},
		{ID: "k.done", Other: "Done"},
		{ID: "k.toofew", Other: "Choose at least two"},
		{ID: "k.word", Other: "Type a word"},
		{ID: "k.confirm", Other: "Save {{.word}}?"},
		{ID: "k.oops", Other: "Portal down"},
		{ID: "k.name", Other: "Your name?"},
		{ID: "k.email", Other: "Your email?"},
		{ID: "k.review", Other: "{{.name}} / {{.email}}"},
		{ID: "k.f.name", Other: "Name"},
		{ID: "k.f.email", Other: "Email"},
		{ID: "k.save", Other: "Save"},
		{ID: "k.nick", Other: "Nickname, if you like"},
		{ID: "k.memo", Other: "Fetched {{.n}}"},
		{ID: "k.plan", Other: "Plan {{.plan}}"},
	}
}

// anyText accepts any non-empty text.
func anyText(s string) (string, string) {
	if s == "" {
		return "", "t.bad"
	}
	return s, ""
}

// thenState waits for text after the state under test, so the frame (and
// its Vars) is still in the store when the test looks.
func thenState() bot.State {
	return bot.State{Name: "then", Prompt: "k.then", Input: bot.Text{Check: anyText, Var: "note"}, On: bot.On{bot.EventNext: "end"}}
}

func endState() bot.State { return bot.State{Name: "end", Prompt: "k.end", Input: bot.End{}} }

// kitChat is one conversation with an engine over a temp bbolt store.
type kitChat struct {
	e    *bot.Engine
	db   *store.DB
	key  string
	upd  int64
	hint string // the platform's language hint sent with every update
}

func newKitChat(t *testing.T, flows ...bot.Flow) *kitChat {
	t.Helper()
	db := openDB(t, filepath.Join(t.TempDir(), "kit.db"))
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	e, err := bot.New(bot.Config{Store: db, Bundle: testBundle(t, kitMessages()...), Flows: flows,
		Now:       func() time.Time { return kitNow },
		OnMissing: func(err error) { t.Errorf("translation: %v", err) }})
	if err != nil {
		t.Fatal(err)
	}
	return &kitChat{e: e, db: db, key: "t:1"}
}

func (c *kitChat) send(t *testing.T, in bot.Inbound) []bot.Reply {
	t.Helper()
	c.upd++
	in.Key, in.UpdateID = c.key, c.upd
	if in.LangHint == "" {
		in.LangHint = c.hint
	}
	envs, err := c.e.Handle(context.Background(), in)
	if err != nil {
		t.Fatalf("handle %+v: %v", in, err)
	}
	replies := make([]bot.Reply, 0, len(envs))
	for _, env := range envs {
		replies = append(replies, env.Reply)
	}
	return replies
}

func (c *kitChat) typeText(t *testing.T, text string) []bot.Reply {
	t.Helper()
	return c.send(t, bot.Inbound{Text: text, MessageID: 1000 + int(c.upd)})
}

func (c *kitChat) press(t *testing.T, data string, messageID int) []bot.Reply {
	t.Helper()
	return c.send(t, bot.Inbound{Data: data, MessageID: messageID})
}

// start opens a flow the way its main-menu button does.
func (c *kitChat) start(t *testing.T, flow string) []bot.Reply {
	t.Helper()
	return c.press(t, "menu|"+flow, 0)
}

// session reads the conversation back from the store.
func (c *kitChat) session(t *testing.T) bot.Session {
	t.Helper()
	s, ok, err := c.db.Load(context.Background(), c.key)
	if err != nil || !ok {
		t.Fatalf("load session: ok=%v err=%v", ok, err)
	}
	return s
}

// top returns the active frame in the store, or a zero Frame when no flow runs.
func (c *kitChat) top(t *testing.T) bot.Frame {
	t.Helper()
	s := c.session(t)
	if fr := s.Top(); fr != nil {
		return *fr
	}
	return bot.Frame{}
}

func last(t *testing.T, replies []bot.Reply) bot.Reply {
	t.Helper()
	if len(replies) == 0 {
		t.Fatal("no replies")
	}
	return replies[len(replies)-1]
}

func joined(replies []bot.Reply) string {
	var s []string
	for _, r := range replies {
		s = append(s, r.Text)
	}
	return strings.Join(s, " | ")
}

func labels(rows [][]bot.Button) [][]string {
	out := make([][]string, len(rows))
	for i, row := range rows {
		for _, b := range row {
			out[i] = append(out[i], b.Label)
		}
	}
	return out
}

func datas(rows [][]bot.Button) [][]string {
	out := make([][]string, len(rows))
	for i, row := range rows {
		for _, b := range row {
			out[i] = append(out[i], b.Data)
		}
	}
	return out
}

// calLabels are a calendar's labels with empty cells (whatever blank the
// kit draws them with) shown as "_".
func calLabels(rows [][]bot.Button) [][]string {
	out := labels(rows)
	for _, row := range out {
		for i, l := range row {
			if isBlank(l) {
				row[i] = "_"
			}
		}
	}
	return out
}

// isBlank reports whether a label shows nothing.
func isBlank(label string) bool {
	return strings.TrimFunc(label, func(r rune) bool { return unicode.IsSpace(r) || r == '\u2800' }) == ""
}

// button returns the callback data of the button labelled label.
func button(t *testing.T, r bot.Reply, label string) string {
	t.Helper()
	for _, row := range r.Buttons {
		for _, b := range row {
			if b.Label == label {
				return b.Data
			}
		}
	}
	t.Fatalf("no button %q in %q", label, labels(r.Buttons))
	return ""
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestParseDate(t *testing.T) {
	tests := []struct {
		in     string
		want   time.Time
		wantOK bool
	}{
		{"2027-03-20", date(2027, 3, 20), true},
		{"20/03/2027", date(2027, 3, 20), true},
		{"20.3.2027", date(2027, 3, 20), true},
		{"20-3-27", date(2027, 3, 20), true},
		{" 20 / 03 / 2027 ", date(2027, 3, 20), true},
		{"29/02/2028", date(2028, 2, 29), true}, // a leap day
		{"31/02/2027", time.Time{}, false},
		{"29/02/2027", time.Time{}, false},
		{"2027-13-01", time.Time{}, false},
		{"tomorrow", time.Time{}, false},
		{"", time.Time{}, false},
		{"20/03", time.Time{}, false},
		{"03/20/2027", time.Time{}, false}, // month first
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			got, ok := bot.ParseDate(tt.in)
			if ok != tt.wantOK || !got.Equal(tt.want) || (ok && got.Location() != time.UTC) {
				t.Errorf("ParseDate(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// calendarFlow asks for a day within b, then waits in "then".
func calendarFlow(b bot.Bounds) bot.Flow {
	return bot.Flow{Name: "cal", Start: "pick", States: []bot.State{
		{Name: "pick", Prompt: "k.pick", Input: bot.Calendar{Var: "day", Bounds: func(*bot.Turn) bot.Bounds { return b }},
			On: bot.On{bot.EventNext: "then"}},
		thenState(), endState(),
	}}
}

// Callback data of the calendar's buttons.
const (
	calNoop = "cal.pick|x:"
	calDay  = "cal.pick|d:"
	calMon  = "cal.pick|m:"
)

func TestCalendarGrid(t *testing.T) {
	c := newKitChat(t, calendarFlow(bot.Bounds{Min: date(2026, 4, 10), Max: date(2026, 5, 20)}))
	got := last(t, c.start(t, "cal"))
	// 1 Apr 2026 is a Wednesday: three blanks, then days before Min are
	// dots; the month row has no way back (Min is in April) and a way on.
	want := [][]string{
		{"_", "April 2026", "▶️"},
		{"Su", "Mo", "Tu", "We", "Th", "Fr", "Sa"},
		{"_", "_", "_", "·", "·", "·", "·"},
		{"·", "·", "·", "·", "·", "10", "11"},
		{"12", "13", "14", "15", "16", "17", "18"},
		{"19", "20", "21", "22", "23", "24", "25"},
		{"26", "27", "28", "29", "30", "_", "_"},
		{"✖️ Cancel"},
	}
	if diff := cmp.Diff(want, calLabels(got.Buttons)); diff != "" {
		t.Fatalf("April grid labels (-want +got):\n%s", diff)
	}
	if got, want := got.Buttons[0][2].Data, calMon+"2026-05"; got != want {
		t.Errorf("next month data = %q, want %q", got, want)
	}
	// Every number presses its day; everything else but the arrow is a no-op.
	for _, row := range got.Buttons[:7] {
		for _, b := range row {
			want := calNoop
			if n, err := strconv.Atoi(b.Label); err == nil {
				want = fmt.Sprintf("%s2026-04-%02d", calDay, n)
			}
			if b.Label == "·" && strings.HasPrefix(b.Data, calNoop+"2026-04-") {
				continue // a day outside the range names itself, to say why it can't be chosen
			}
			if b.Label != "▶️" && b.Data != want {
				t.Errorf("button %q: data %q, want %q", b.Label, b.Data, want)
			}
		}
	}
}

func TestCalendarWeeksStartOnSunday(t *testing.T) {
	tests := []struct {
		name       string
		first      time.Time // the month shown (Bounds.Min)
		wantBlanks int
		wantWeeks  int
	}{
		{"Feb 2026 starts on Sunday and fills four weeks", date(2026, 2, 1), 0, 4},
		{"Mar 2026 starts on Sunday", date(2026, 3, 1), 0, 5},
		{"Apr 2026 starts on Wednesday", date(2026, 4, 1), 3, 5},
		{"Aug 2026 starts on Saturday", date(2026, 8, 1), 6, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newKitChat(t, calendarFlow(bot.Bounds{Min: tt.first}))
			r := last(t, c.start(t, "cal"))
			// Month row, weekday row, the weeks, the Cancel row.
			weeks := r.Buttons[2 : len(r.Buttons)-1]
			if len(weeks) != tt.wantWeeks {
				t.Fatalf("%d week rows, want %d: %q", len(weeks), tt.wantWeeks, labels(r.Buttons))
			}
			for i, row := range weeks {
				if len(row) != 7 {
					t.Errorf("week %d has %d buttons, want 7", i+1, len(row))
				}
			}
			first := calLabels(weeks)[0]
			got := slices.Index(first, "1")
			if got != tt.wantBlanks {
				t.Errorf("the 1st is at column %d, want %d: %q", got, tt.wantBlanks, first)
			}
			for i := 0; i < tt.wantBlanks; i++ {
				if first[i] != "_" || weeks[0][i].Data != calNoop {
					t.Errorf("column %d before the 1st is %q (%q), want a blank no-op", i, first[i], weeks[0][i].Data)
				}
			}
		})
	}
}

func TestCalendarMonthArrows(t *testing.T) {
	tests := []struct {
		name               string
		bounds             bot.Bounds
		wantPrev, wantNext string // data; calNoop for no arrow
	}{
		{"open both sides, today's month", bot.Bounds{}, calMon + "2026-03", calMon + "2026-05"},
		{"range within one month", bot.Bounds{Min: date(2026, 4, 10), Max: date(2026, 4, 20)}, calNoop, calNoop},
		{"range into next month", bot.Bounds{Min: date(2026, 4, 10), Max: date(2026, 5, 20)}, calNoop, calMon + "2026-05"},
		{"only a Max this month", bot.Bounds{Max: date(2026, 4, 20)}, calMon + "2026-03", calNoop},
		{"only a Min, later month", bot.Bounds{Min: date(2026, 7, 3)}, calNoop, calMon + "2026-08"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newKitChat(t, calendarFlow(tt.bounds))
			row := last(t, c.start(t, "cal")).Buttons[0]
			if got, want := []string{row[0].Data, row[2].Data}, []string{tt.wantPrev, tt.wantNext}; !slices.Equal(got, want) {
				t.Errorf("arrows [prev next] = %q, want %q", got, want)
			}
			for _, b := range []bot.Button{row[0], row[2]} {
				if (b.Data == calNoop) != isBlank(b.Label) {
					t.Errorf("arrow %q has data %q: a blank must be a no-op and a no-op blank", b.Label, b.Data)
				}
			}
		})
	}
}

func TestCalendarMonthPressEditsInPlace(t *testing.T) {
	c := newKitChat(t, calendarFlow(bot.Bounds{Min: date(2026, 4, 10), Max: date(2026, 5, 20)}))
	c.start(t, "cal")
	steps := []struct {
		name      string
		data      string
		messageID int
		wantTitle string
		wantPrev  string
		wantNext  string
	}{
		{"next to May", calMon + "2026-05", 41, "May 2026", calMon + "2026-04", calNoop},
		{"back to April", calMon + "2026-04", 42, "April 2026", calNoop, calMon + "2026-05"},
	}
	for _, st := range steps {
		if !t.Run(st.name, func(t *testing.T) {
			replies := c.press(t, st.data, st.messageID)
			if len(replies) != 1 {
				t.Fatalf("%d replies %q, want just the edited calendar", len(replies), joined(replies))
			}
			r := replies[0]
			if r.EditID != st.messageID {
				t.Errorf("EditID = %d, want %d (the pressed message)", r.EditID, st.messageID)
			}
			row := r.Buttons[0]
			if got, want := []string{row[0].Data, row[1].Label, row[2].Data}, []string{st.wantPrev, st.wantTitle, st.wantNext}; !slices.Equal(got, want) {
				t.Errorf("month row = %q, want %q", got, want)
			}
			if fr := c.top(t); fr.State != "pick" || fr.Vars["day"] != "" {
				t.Errorf("paging moved the flow: state %q vars %v", fr.State, fr.Vars)
			}
		}) {
			break
		}
	}
	// Days after Max in May are dots.
	r := last(t, c.press(t, calMon+"2026-05", 43))
	if got := r.Buttons[len(r.Buttons)-2]; got[0].Label != "·" || got[0].Data != calNoop+"2026-05-31" {
		t.Errorf("31 May (after Max) = %q %q, want a dot no-op", got[0].Label, got[0].Data)
	}
}

func TestCalendarPress(t *testing.T) {
	tests := []struct {
		name      string
		data      string
		wantText  string
		wantState string
		wantDay   string
	}{
		{"a day in range", calDay + "2026-04-20", "Anything else?", "then", "2026-04-20"},
		{"a dot", calNoop + "2026-04-05", "can't be chosen", "pick", ""},
		{"a title or blank cell", calNoop, "Pick a day", "pick", ""},
		{"a forged day before Min", calDay + "2026-04-01", "can't be chosen", "pick", ""},
		{"a forged day after Max", calDay + "2026-05-21", "can't be chosen", "pick", ""},
		{"a malformed day", calDay + "20/04/2026", "earlier message", "pick", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newKitChat(t, calendarFlow(bot.Bounds{Min: date(2026, 4, 10), Max: date(2026, 5, 20)}))
			c.start(t, "cal")
			replies := c.press(t, tt.data, 7)
			if got := joined(replies); !strings.Contains(got, tt.wantText) {
				t.Errorf("replies %q, want one containing %q", got, tt.wantText)
			}
			fr := c.top(t)
			if fr.State != tt.wantState || fr.Vars["day"] != tt.wantDay {
				t.Errorf("state %q day %q, want %q %q", fr.State, fr.Vars["day"], tt.wantState, tt.wantDay)
			}
		})
	}
}

func TestCalendarTyped(t *testing.T) {
	inRange := bot.Bounds{Min: date(2026, 4, 10), Max: date(2026, 5, 20)}
	custom := inRange
	custom.Early, custom.Late = "k.early", "k.late"
	tests := []struct {
		name      string
		bounds    bot.Bounds
		text      string
		wantText  string
		wantState string
		wantDay   string
	}{
		{"in range, day first", inRange, "20/04/2026", "Anything else?", "then", "2026-04-20"},
		{"in range, ISO", inRange, "2026-05-20", "Anything else?", "then", "2026-05-20"},
		{"before Min", inRange, "09/04/2026", "That day is too early: choose 10 Apr 2026 or later.", "pick", ""},
		{"after Max", inRange, "21.5.2026", "That day is too late: choose 20 May 2026 or earlier.", "pick", ""},
		{"before Min, own message", custom, "2026-01-01", "Not before 10 Apr 2026", "pick", ""},
		{"after Max, own message", custom, "1/1/27", "Not after 20 May 2026", "pick", ""},
		{"not a date", inRange, "tomorrow", "couldn't read that as a date", "pick", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newKitChat(t, calendarFlow(tt.bounds))
			c.start(t, "cal")
			replies := c.typeText(t, tt.text)
			if got := joined(replies); !strings.Contains(got, tt.wantText) {
				t.Errorf("replies %q, want one containing %q", got, tt.wantText)
			}
			fr := c.top(t)
			if fr.State != tt.wantState || fr.Vars["day"] != tt.wantDay {
				t.Errorf("state %q day %q, want %q %q", fr.State, fr.Vars["day"], tt.wantState, tt.wantDay)
			}
		})
	}
}

func TestCalendarHebrew(t *testing.T) {
	en := newKitChat(t, calendarFlow(bot.Bounds{}))
	enGrid := last(t, en.start(t, "cal")).Buttons
	tests := []struct {
		name string
		show func(t *testing.T, c *kitChat) bot.Reply
	}{
		{"platform hint", func(t *testing.T, c *kitChat) bot.Reply {
			c.hint = "he"
			return last(t, c.start(t, "cal"))
		}},
		{"language button", func(t *testing.T, c *kitChat) bot.Reply {
			c.start(t, "cal")
			return last(t, c.press(t, "lang|he", 3))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newKitChat(t, calendarFlow(bot.Bounds{}))
			he := tt.show(t, c).Buttons
			if len(he) != len(enGrid) {
				t.Fatalf("%d rows in Hebrew, %d in English", len(he), len(enGrid))
			}
			// Next month on the left, pointing left; previous on the right.
			month := he[0]
			if got, want := [][]string{{month[0].Label, month[0].Data}, {month[2].Label, month[2].Data}},
				[][]string{{"◀️", calMon + "2026-05"}, {"▶️", calMon + "2026-03"}}; !cmp.Equal(got, want) {
				t.Errorf("Hebrew month arrows [left right] = %q, want %q", got, want)
			}
			if got, want := labels(he)[1], []string{"ש׳", "ו׳", "ה׳", "ד׳", "ג׳", "ב׳", "א׳"}; !slices.Equal(got, want) {
				t.Errorf("Hebrew weekday row = %q, want %q (Sunday rightmost)", got, want)
			}
			if got, want := calLabels(he)[2], []string{"4", "3", "2", "1", "_", "_", "_"}; !slices.Equal(got, want) {
				t.Errorf("Hebrew first week = %q, want %q", got, want)
			}
			// Every week row is the English row reversed.
			enData, heData := datas(enGrid), datas(he)
			for i := 1; i < len(he)-1; i++ {
				want := slices.Clone(enData[i])
				slices.Reverse(want)
				if diff := cmp.Diff(want, heData[i]); diff != "" {
					t.Errorf("row %d is not the English row reversed (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

// toggleFlow offers two options on their own and a language group of two.
func toggleFlow() bot.Flow {
	options := func(_ context.Context, t *bot.Turn) (string, error) {
		t.Options = []bot.Option{
			{Label: "Wifi", Value: "wifi"},
			{Label: "Roaming", Value: "roam"},
			{Label: "Hebrew", Value: "he", Group: "lang"},
			{Label: "English", Value: "en", Group: "lang"},
		}
		return "", nil
	}
	return bot.Flow{Name: "tog", Start: "opts", States: []bot.State{
		{Name: "opts", Prompt: "k.opts", Enter: options,
			Input: bot.Toggles{Var: "opts", Done: "k.done", Min: 2, TooFew: "k.toofew"}, On: bot.On{bot.EventNext: "then"}},
		thenState(), endState(),
	}}
}

func TestToggles(t *testing.T) {
	c := newKitChat(t, toggleFlow())
	first := last(t, c.start(t, "tog"))
	if diff := cmp.Diff([][]string{{"⬜ Wifi"}, {"⬜ Roaming"}, {"⚪ Hebrew", "⚪ English"}, {"Done"}, {"✖️ Cancel"}},
		labels(first.Buttons)); diff != "" {
		t.Fatalf("first screen (-want +got):\n%s", diff)
	}
	steps := []struct {
		name      string
		data      string
		wantEdit  bool // the same message is edited
		wantText  string
		wantRows  [][]string // the option rows, when the screen is redrawn
		wantVar   string
		wantState string
	}{
		{"switch wifi on", "tog.opts|t:wifi", true, "Choose options",
			[][]string{{"✅ Wifi"}, {"⬜ Roaming"}, {"⚪ Hebrew", "⚪ English"}}, "wifi", "opts"},
		{"choose Hebrew", "tog.opts|t:he", true, "Choose options",
			[][]string{{"✅ Wifi"}, {"⬜ Roaming"}, {"🔘 Hebrew", "⚪ English"}}, "wifi,he", "opts"},
		{"English replaces Hebrew", "tog.opts|t:en", true, "Choose options",
			[][]string{{"✅ Wifi"}, {"⬜ Roaming"}, {"⚪ Hebrew", "🔘 English"}}, "wifi,en", "opts"},
		{"English again stays on", "tog.opts|t:en", true, "Choose options",
			[][]string{{"✅ Wifi"}, {"⬜ Roaming"}, {"⚪ Hebrew", "🔘 English"}}, "wifi,en", "opts"},
		{"switch wifi off", "tog.opts|t:wifi", true, "Choose options",
			[][]string{{"⬜ Wifi"}, {"⬜ Roaming"}, {"⚪ Hebrew", "🔘 English"}}, "en", "opts"},
		{"done with one", "tog.opts|k:", false, "Choose at least two",
			[][]string{{"⬜ Wifi"}, {"⬜ Roaming"}, {"⚪ Hebrew", "🔘 English"}}, "en", "opts"},
		{"switch roaming on", "tog.opts|t:roam", true, "Choose options",
			[][]string{{"⬜ Wifi"}, {"✅ Roaming"}, {"⚪ Hebrew", "🔘 English"}}, "roam,en", "opts"},
		{"an option that is not offered", "tog.opts|t:fax", false, "earlier message", nil, "roam,en", "opts"},
		{"done with two", "tog.opts|k:", false, "Anything else?", nil, "roam,en", "then"},
	}
	for i, st := range steps {
		if !t.Run(st.name, func(t *testing.T) {
			msgID := 50 + i
			replies := c.press(t, st.data, msgID)
			if got := joined(replies); !strings.Contains(got, st.wantText) {
				t.Errorf("replies %q, want one containing %q", got, st.wantText)
			}
			r := last(t, replies)
			if st.wantEdit && (len(replies) != 1 || r.EditID != msgID) {
				t.Errorf("%d replies, EditID %d; want one reply editing message %d", len(replies), r.EditID, msgID)
			}
			if !st.wantEdit && r.EditID != 0 {
				t.Errorf("EditID = %d, want a new message", r.EditID)
			}
			if st.wantRows != nil {
				if diff := cmp.Diff(st.wantRows, labels(r.Buttons)[:3]); diff != "" {
					t.Errorf("options (-want +got):\n%s", diff)
				}
			}
			fr := c.top(t)
			if fr.State != st.wantState || fr.Vars["opts"] != st.wantVar {
				t.Errorf("state %q opts %q, want %q %q", fr.State, fr.Vars["opts"], st.wantState, st.wantVar)
			}
		}) {
			break
		}
	}
}

// TestTogglesTooFewKeepsAsking: Done below Min is a button press, not a
// wrong answer; the customer must stay on the screen however often they
// press it.
func TestTogglesTooFewKeepsAsking(t *testing.T) {
	c := newKitChat(t, toggleFlow())
	c.start(t, "tog")
	for i := 1; i <= 4; i++ {
		replies := c.press(t, "tog.opts|k:", 60+i)
		if got := joined(replies); !strings.Contains(got, "Choose at least two") {
			t.Errorf("Done #%d: replies %q, want the TooFew message", i, got)
		}
		if fr := c.top(t); fr.State != "opts" {
			t.Fatalf("Done #%d: state %q, want opts", i, fr.State)
		}
	}
}

// confirmFlow asks for a word, confirms it and saves it; save fails with a
// UserError the first fails times, recording the WriteKey each try.
func confirmFlow(fails int, keys *[]string) bot.Flow {
	save := func(_ context.Context, t *bot.Turn) (string, error) {
		*keys = append(*keys, t.WriteKey())
		if len(*keys) <= fails {
			return "", &bot.UserError{MsgID: "k.oops"}
		}
		return bot.EventNext, nil
	}
	return bot.Flow{Name: "conf", Start: "ask", States: []bot.State{
		{Name: "ask", Prompt: "k.word", Input: bot.Text{Check: anyText, Var: "word"}, On: bot.On{bot.EventNext: "confirm"}},
		{Name: "confirm", Prompt: "k.confirm", Input: bot.Confirm{}, On: bot.On{bot.EventNext: "save", bot.EventChange: "ask"}},
		{Name: "save", Enter: save, On: bot.On{bot.EventNext: "end"}},
		endState(),
	}}
}

func TestConfirmButtons(t *testing.T) {
	tests := []struct {
		name      string
		label     string
		wantText  string
		wantState string // "" when the flow has ended
	}{
		{"confirm fires next", "✅ Confirm", "All done", ""},
		{"change fires change", "✏️ Change", "Type a word", "ask"},
		{"cancel ends the flow", "✖️ Cancel", "Cancelled", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var keys []string
			c := newKitChat(t, confirmFlow(0, &keys))
			c.start(t, "conf")
			r := last(t, c.typeText(t, "hello"))
			if diff := cmp.Diff([][]string{{"✅ Confirm"}, {"✏️ Change", "✖️ Cancel"}}, labels(r.Buttons)); diff != "" {
				t.Fatalf("confirm buttons (-want +got):\n%s", diff)
			}
			if r.Text != "Save hello?" {
				t.Errorf("confirm text %q, want %q", r.Text, "Save hello?")
			}
			replies := c.press(t, button(t, r, tt.label), 9)
			if got := joined(replies); !strings.Contains(got, tt.wantText) {
				t.Errorf("replies %q, want one containing %q", got, tt.wantText)
			}
			if got := c.top(t).State; got != tt.wantState {
				t.Errorf("state %q, want %q", got, tt.wantState)
			}
		})
	}
}

func TestConfirmWriteKey(t *testing.T) {
	var keys []string
	c := newKitChat(t, confirmFlow(2, &keys))
	c.start(t, "conf")
	seen := map[string]bool{}
	var shown string // the key of the last confirm screen
	// Each way of showing the confirm screen commits a key never used before.
	steps := []struct {
		name string
		show func(t *testing.T)
	}{
		{"first show", func(t *testing.T) { c.typeText(t, "hello") }},
		{"typed text at the screen", func(t *testing.T) { c.typeText(t, "what?") }},
		{"language switch", func(t *testing.T) { c.press(t, "lang|en", 5) }},
		{"after Change", func(t *testing.T) {
			c.press(t, "conf.confirm|e:change", 6)
			c.typeText(t, "again")
		}},
		{"after /back from the failed save", func(t *testing.T) {
			c.press(t, "conf.confirm|k:", 7)
			c.typeText(t, "/back")
		}},
	}
	for _, st := range steps {
		if !t.Run(st.name, func(t *testing.T) {
			st.show(t)
			fr := c.top(t)
			if fr.State != "confirm" {
				t.Fatalf("state %q, want confirm", fr.State)
			}
			k := fr.Vars["_key"]
			if k == "" || seen[k] {
				t.Errorf("stored key %q: want a new non-empty one (seen %d before)", k, len(seen))
			}
			seen[k] = true
			shown = k
		}) {
			return
		}
	}
	// Confirm, and "try again" twice: every try carries the screen's key.
	keys = nil
	replies := c.press(t, "conf.confirm|k:", 8)
	if got := joined(replies); !strings.Contains(got, "Portal down") {
		t.Fatalf("replies %q, want the UserError", got)
	}
	retry := button(t, last(t, replies), "🔄 Try again")
	if retry != "conf.save|r:" {
		t.Errorf("retry data %q, want conf.save|r:", retry)
	}
	c.press(t, retry, 9)
	if got := joined(c.press(t, retry, 10)); !strings.Contains(got, "All done") {
		t.Errorf("third try: replies %q, want the end", got)
	}
	if diff := cmp.Diff([]string{shown, shown, shown}, keys); diff != "" {
		t.Errorf("WriteKey per try (-want +got):\n%s", diff)
	}
}

// crashOnce fails the next Commit once armed, as if the process died after
// the portal write and before the store commit.
type crashOnce struct {
	bot.Store
	armed bool
}

var _ bot.Store = (*crashOnce)(nil)

func (s *crashOnce) Commit(ctx context.Context, c bot.Commit) ([]bot.Envelope, error) {
	if s.armed {
		s.armed = false
		return nil, errors.New("power cut")
	}
	return s.Store.Commit(ctx, c)
}

// TestConfirmKeySurvivesLostCommit: the confirmed write redone after a lost
// commit (the channel redelivers the press) carries the same key.
func TestConfirmKeySurvivesLostCommit(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "kit.db"))
	defer db.Close()
	st := &crashOnce{Store: db}
	var keys []string
	e, err := bot.New(bot.Config{Store: st, Bundle: testBundle(t, kitMessages()...), Flows: []bot.Flow{confirmFlow(0, &keys)},
		Now: func() time.Time { return kitNow }, OnMissing: func(err error) { t.Errorf("translation: %v", err) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, in := range []bot.Inbound{
		{Key: "t:1", UpdateID: 1, Data: "menu|conf"},
		{Key: "t:1", UpdateID: 2, Text: "hello"},
	} {
		if _, err := e.Handle(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	s, _, err := db.Load(ctx, "t:1")
	if err != nil || s.Top() == nil || s.Top().State != "confirm" {
		t.Fatalf("not at the confirm screen: %+v, %v", s.Stack, err)
	}
	shown := s.Top().Vars["_key"]
	press := bot.Inbound{Key: "t:1", UpdateID: 3, Data: "conf.confirm|k:", MessageID: 5}
	st.armed = true
	if _, err := e.Handle(ctx, press); err == nil {
		t.Fatal("Handle: no error from the lost commit")
	}
	envs, err := e.Handle(ctx, press)
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(envs); !strings.Contains(got, "All done") {
		t.Errorf("redelivered press: %q, want the end", got)
	}
	if diff := cmp.Diff([]string{shown, shown}, keys); diff != "" {
		t.Errorf("WriteKey per attempt (-want +got):\n%s", diff)
	}
}

// Shapes of a flow with a Review.
const (
	// reviewAfter asks each field in turn, then shows the review.
	reviewAfter = "fields then review"
	// reviewOnly shows the review at once; its fields are asked only from it.
	reviewOnly = "review only"
)

func reviewFlow(shape string) bot.Flow {
	review := bot.State{Name: "review", Prompt: "k.review", Input: bot.Review{Save: "k.save", Fields: []bot.Field{
		{Label: "k.f.name", State: "name"}, {Label: "k.f.email", State: "email"}}},
		On: bot.On{bot.EventNext: "end"}}
	name := bot.State{Name: "name", Prompt: "k.name", Input: bot.Text{Check: anyText, Var: "name"}, On: bot.On{bot.EventNext: "email"}}
	email := bot.State{Name: "email", Prompt: "k.email", Input: bot.Text{Check: anyText, Var: "email"}, On: bot.On{bot.EventNext: "review"}}
	if shape == reviewAfter {
		return bot.Flow{Name: "rev", Start: "name", States: []bot.State{name, email, review, endState()}}
	}
	review.Enter = func(_ context.Context, t *bot.Turn) (string, error) {
		if !t.Has("name") {
			t.Set("name", "Dana")
			t.Set("email", "d@x")
		}
		return "", nil
	}
	name.On = bot.On{bot.EventNext: "review"}
	intro := bot.State{Name: "intro", Prompt: "k.word", Input: bot.Text{Check: anyText, Var: "word"}, On: bot.On{bot.EventNext: "review"}}
	return bot.Flow{Name: "rev", Start: "intro", States: []bot.State{intro, review, name, email, endState()}}
}

// reviewAt fills a review flow in and returns the chat at the review,
// showing Dana / d@x.
func reviewAt(t *testing.T, shape string) *kitChat {
	t.Helper()
	c := newKitChat(t, reviewFlow(shape))
	c.start(t, "rev")
	var r bot.Reply
	if shape == reviewAfter {
		c.typeText(t, "Dana")
		r = last(t, c.typeText(t, "d@x"))
	} else {
		r = last(t, c.typeText(t, "hi"))
	}
	if r.Text != "Dana / d@x" {
		t.Fatalf("review %q, want %q", r.Text, "Dana / d@x")
	}
	if diff := cmp.Diff([][]string{{"Name", "Email"}, {"Save"}, {"⬅️ Back", "✖️ Cancel"}}, labels(r.Buttons)); diff != "" {
		t.Fatalf("review buttons (-want +got):\n%s", diff)
	}
	return c
}

func TestReview(t *testing.T) {
	tests := []struct {
		name     string
		field    string // the field's state, whose button is pressed
		then     string // typed in the field's state
		wantText string // the review again
	}{
		{"answer the first field", "name", "Rina", "Rina / d@x"},
		{"answer the last field", "email", "r@x", "Dana / r@x"},
		{"back from the first field", "name", "/back", "Dana / d@x"},
		{"back from the last field", "email", "/back", "Dana / d@x"},
	}
	for _, shape := range []string{reviewAfter, reviewOnly} {
		for _, tt := range tests {
			t.Run(shape+"/"+tt.name, func(t *testing.T) {
				c := reviewAt(t, shape)
				c.press(t, "rev.review|f:"+tt.field, 20)
				if got := c.top(t).State; got != tt.field {
					t.Fatalf("after the field button: state %q, want %q", got, tt.field)
				}
				replies := c.typeText(t, tt.then)
				if got := last(t, replies).Text; got != tt.wantText {
					t.Errorf("last reply %q (all: %q), want %q", got, joined(replies), tt.wantText)
				}
				fr := c.top(t)
				if fr.State != "review" {
					t.Errorf("state %q, want review", fr.State)
				}
				if _, ok := fr.Vars["_review"]; ok {
					t.Errorf("the review mark is still set: %v", fr.Vars)
				}
			})
		}
		t.Run(shape+"/save fires next", func(t *testing.T) {
			c := reviewAt(t, shape)
			if got := joined(c.press(t, "rev.review|k:", 21)); !strings.Contains(got, "All done") {
				t.Errorf("replies %q, want the end", got)
			}
			if got := c.top(t).State; got != "" {
				t.Errorf("state %q, want the flow ended", got)
			}
		})
	}
}

func TestTextOptional(t *testing.T) {
	flow := func(optional bool) bot.Flow {
		return bot.Flow{Name: "opt", Start: "ask", States: []bot.State{
			{Name: "ask", Prompt: "k.nick", Input: bot.Text{Check: anyText, Var: "nick", Optional: optional}, On: bot.On{bot.EventNext: "then"}},
			thenState(), endState(),
		}}
	}
	tests := []struct {
		name      string
		optional  bool
		in        bot.Inbound
		wantRows  [][]string
		wantState string
		wantNick  string
		wantHas   bool
	}{
		{"skip stores empty", true, bot.Inbound{Data: "opt.ask|s:"}, [][]string{{"⏭️ Skip"}, {"✖️ Cancel"}}, "then", "", true},
		{"typed text", true, bot.Inbound{Text: "Bob"}, [][]string{{"⏭️ Skip"}, {"✖️ Cancel"}}, "then", "Bob", true},
		{"no skip when required", false, bot.Inbound{Data: "opt.ask|s:"}, [][]string{{"✖️ Cancel"}}, "ask", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newKitChat(t, flow(tt.optional))
			if diff := cmp.Diff(tt.wantRows, labels(last(t, c.start(t, "opt")).Buttons)); diff != "" {
				t.Errorf("buttons (-want +got):\n%s", diff)
			}
			c.send(t, tt.in)
			fr := c.top(t)
			nick, has := fr.Vars["nick"]
			if fr.State != tt.wantState || nick != tt.wantNick || has != tt.wantHas {
				t.Errorf("state %q nick %q (set %v), want %q %q (set %v)", fr.State, nick, has, tt.wantState, tt.wantNick, tt.wantHas)
			}
		})
	}
}

func TestNewRejectsBadInputs(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "kit.db"))
	defer db.Close()
	const evGo = "go"
	base := func() bot.Flow {
		return bot.Flow{Name: "f", Start: "a", Events: []string{evGo}, States: []bot.State{
			{Name: "a", Prompt: "k.word", Input: bot.Text{Check: anyText, Var: "w"}, On: bot.On{bot.EventNext: "b"}},
			{Name: "b", Prompt: "k.opts", Buttons: []bot.Btn{{Label: "k.done", Event: evGo}}, On: bot.On{evGo: "c"}},
			{Name: "c", Prompt: "k.confirm", Input: bot.Confirm{}, On: bot.On{bot.EventNext: "d", bot.EventChange: "a"}},
			{Name: "d", Prompt: "k.opts", Input: bot.Toggles{Var: "o", Done: "k.done"}, On: bot.On{bot.EventNext: "end"}},
			endState(),
		}}
	}
	mod := func(f func(*bot.Flow)) bot.Flow { fl := base(); f(&fl); return fl }
	tests := []struct {
		name    string
		flow    bot.Flow
		wantErr bool
		want    string // in the error, when given
	}{
		{"valid", base(), false, ""},
		{"undeclared event", mod(func(f *bot.Flow) { f.Events = nil }), true, `event "go" is not declared`},
		{"declared event no transition uses", mod(func(f *bot.Flow) { f.Events = append(f.Events, "stop") }), true, "stop is declared but leads nowhere"},
		{"built-in event declared", mod(func(f *bot.Flow) { f.Events = append(f.Events, bot.EventNext) }), true, "built in"},
		{"review event declared", mod(func(f *bot.Flow) { f.Events = append(f.Events, bot.EventReview) }), true, "built in"},
		{"confirm without change", mod(func(f *bot.Flow) { delete(f.States[2].On, bot.EventChange) }), true, "no change transition"},
		{"confirm without next", mod(func(f *bot.Flow) { f.States[2].On = bot.On{bot.EventChange: "a"} }), true, "no next transition"},
		{"toggles without Done", mod(func(f *bot.Flow) { f.States[3].Input = bot.Toggles{Var: "o"} }), true, "Done label"},
		{"toggles Min without TooFew", mod(func(f *bot.Flow) { f.States[3].Input = bot.Toggles{Var: "o", Done: "k.done", Min: 1} }), true, "TooFew"},
		{"review field with no state", mod(func(f *bot.Flow) {
			f.States[1].Input = bot.Review{Save: "k.save", Fields: []bot.Field{{Label: "k.f.name", State: "nope"}}}
		}), true, `no state "nope"`},
		{"calendar without Var", mod(func(f *bot.Flow) { f.States[0].Input = bot.Calendar{} }), true, "calendar without a Var"},
		{"input state without a Prompt", mod(func(f *bot.Flow) {
			f.States[0].Prompt, f.States[0].Input = "", bot.Calendar{Var: "d"}
		}), true, "no Prompt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// compile reports its problems as text only: no sentinel to match.
			_, err := bot.New(bot.Config{Store: db, Bundle: testBundle(t, kitMessages()...), Flows: []bot.Flow{tt.flow}})
			switch {
			case !tt.wantErr && err != nil:
				t.Errorf("New: %v, want no error", err)
			case tt.wantErr && err == nil:
				t.Errorf("New: no error, want one mentioning %q", tt.want)
			case tt.wantErr && !strings.Contains(err.Error(), tt.want):
				t.Errorf("New: err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestTurnCachedPerUpdate(t *testing.T) {
	calls := 0
	fetch := func(t *bot.Turn) int {
		if v, ok := t.Cached("n"); ok {
			return v.(int)
		}
		calls++
		t.Cache("n", calls)
		return calls
	}
	flow := bot.Flow{Name: "memo", Start: "a", States: []bot.State{
		{Name: "a", Enter: func(_ context.Context, t *bot.Turn) (string, error) {
			fetch(t)
			return bot.EventNext, nil
		}, On: bot.On{bot.EventNext: "b"}},
		{Name: "b", Prompt: "k.memo", Enter: func(_ context.Context, t *bot.Turn) (string, error) {
			t.Data = map[string]any{"n": fetch(t)}
			return "", nil
		}, Input: bot.Text{Check: func(string) (string, string) { return "", "t.bad" }, MaxAttempts: -1}, On: bot.On{bot.EventNext: "end"}},
		endState(),
	}}
	c := newKitChat(t, flow)
	steps := []struct {
		name      string
		send      func(t *testing.T) []bot.Reply
		wantCalls int
		wantText  string
	}{
		{"two action states in one update fetch once", func(t *testing.T) []bot.Reply { return c.start(t, "memo") }, 1, "Fetched 1"},
		{"the next update fetches afresh", func(t *testing.T) []bot.Reply { return c.typeText(t, "x") }, 2, "Bad word\n\nFetched 2"}, // the note on top of the re-prompt
	}
	for _, st := range steps {
		if !t.Run(st.name, func(t *testing.T) {
			replies := st.send(t)
			if calls != st.wantCalls {
				t.Errorf("%d fetches, want %d", calls, st.wantCalls)
			}
			if got := last(t, replies).Text; got != st.wantText {
				t.Errorf("prompt %q, want %q", got, st.wantText)
			}
		}) {
			break
		}
	}
}

func TestTurnJump(t *testing.T) {
	from := bot.Flow{Name: "from", Start: "go", States: []bot.State{
		{Name: "go", Enter: func(_ context.Context, t *bot.Turn) (string, error) {
			t.Set("left", "behind")
			t.Jump("to", map[string]string{"plan": "P1"})
			return "", nil
		}},
	}}
	// The target's Start is not its first state.
	to := bot.Flow{Name: "to", Start: "show", States: []bot.State{
		endState(),
		{Name: "show", Prompt: "k.plan", Input: bot.Text{Check: anyText, Var: "x"}, On: bot.On{bot.EventNext: "end"}},
	}}
	c := newKitChat(t, from, to)
	replies := c.start(t, "from")
	if got, want := joined(replies), "Plan P1"; got != want {
		t.Errorf("replies %q, want %q", got, want)
	}
	s := c.session(t)
	if len(s.Stack) != 1 {
		t.Fatalf("stack %+v, want the one jumped-to flow", s.Stack)
	}
	if diff := cmp.Diff(bot.Frame{Flow: "to", State: "show", Vars: map[string]string{"plan": "P1"}}, s.Stack[0]); diff != "" {
		t.Errorf("frame after the jump (-want +got):\n%s", diff)
	}
	if got := joined(c.typeText(t, "ok")); got != "All done" {
		t.Errorf("after answering the jumped-to flow: %q, want %q", got, "All done")
	}
}
