package bot

import (
	"fmt"
	"slices"
)

// This file draws screens: a state's prompt with its choices and the
// navigation row, the main menu, and the final rendering of replies
// through the locales.

// out is a reply before rendering.
type out struct {
	id      string
	data    map[string]any
	text    string // already rendered (wins over id)
	buttons [][]btn
	edit    int
	del     int
	secret  bool
	keep    bool              // see Reply.Keep
	to      string            // see Reply.To
	vars    map[string]string // see Reply.Vars
}

type btn struct {
	label string // message ID
	text  string // already rendered label (wins over label)
	data  string
}

func (r *run) say(id string, data map[string]any) {
	r.outs = append(r.outs, out{id: id, data: data})
}

func (r *run) del(messageID int) {
	if messageID == 0 {
		return
	}
	for _, o := range r.outs {
		if o.del == messageID {
			return
		}
	}
	r.outs = append(r.outs, out{del: messageID})
}

// render localises the outputs into replies, merging a plain note into
// the new message that follows it (see plainNote).
func (r *run) render() []Reply {
	replies := make([]Reply, 0, len(r.outs))
	for _, o := range r.outs {
		rp := Reply{Text: o.text, EditID: o.edit, DeleteID: o.del, Secret: o.secret, Keep: o.keep}
		if o.to != "" { // for another channel: as given, never merged
			rp.To, rp.Vars = o.to, o.vars
			replies = append(replies, rp)
			continue
		}
		if rp.Text == "" && o.id != "" {
			rp.Text = r.e.renderLog(r.log, r.lang, o.id, r.asRendered(o.data), nil)
		}
		for _, row := range o.buttons {
			var bs []Button
			for _, b := range row {
				label := b.text
				if label == "" {
					label = r.e.fragmentLog(r.log, r.lang, b.label, nil, nil)
				}
				if r.lang == "he" {
					label = rtlLine(label)
				}
				bs = append(bs, Button{Label: label, Data: b.data})
			}
			rp.Buttons = append(rp.Buttons, bs)
		}
		// One message per screen: a plain note (an error, a notice) goes
		// on top of the new message after it instead of costing a message
		// of its own.
		if n := lastOwn(replies); n >= 0 && rp.EditID == 0 && rp.DeleteID == 0 && plainNote(replies[n]) {
			if rp.Text != "" {
				rp.Text = replies[n].Text + "\n\n" + rp.Text
			} else {
				rp.Text = replies[n].Text
			}
			rp.Keep = true // the note must reach the customer
			replies[n] = rp
			continue
		}
		replies = append(replies, rp)
	}
	return replies
}

// lastOwn returns the index of the last reply to the customer's own
// conversation, or -1.
func lastOwn(replies []Reply) int {
	for i := len(replies) - 1; i >= 0; i-- {
		if replies[i].To == "" {
			return i
		}
	}
	return -1
}

// plainNote reports whether rp is a new message of text alone: no buttons,
// no edit or deletion, not a password prompt.
func plainNote(rp Reply) bool {
	return rp.Text != "" && len(rp.Buttons) == 0 && rp.EditID == 0 && rp.DeleteID == 0 && !rp.Secret
}

// pairs lays buttons out two to a row.
func pairs(bs []btn) [][]btn {
	var rows [][]btn
	for len(bs) > 2 {
		rows = append(rows, bs[:2:2])
		bs = bs[2:]
	}
	if len(bs) > 0 {
		rows = append(rows, bs)
	}
	return rows
}

// readingOrder lays out a row whose order means something (previous/next,
// a calendar week) in the customer's reading direction: clients draw
// button rows left to right, so a Hebrew row is reversed.
func (r *run) readingOrder(row []btn) []btn {
	if r.lang == "he" {
		slices.Reverse(row)
	}
	return row
}

func (r *run) languages() {
	row := make([]btn, 0, len(r.e.langs))
	for _, l := range r.e.langs {
		row = append(row, btn{label: "language.name." + l, data: dataLang + l})
	}
	r.outs = append(r.outs, out{id: "language.prompt", buttons: [][]btn{row}})
}

// navRow offers Back (when there is a step to go back to) and Cancel while
// the customer is filling something in, or Main menu when they are looking
// at a result.
func (r *run) navRow(at step) []btn {
	row := []btn{}
	if len(at.fr.History) > 0 || len(r.sess.Stack) > 1 {
		row = append(row, btn{label: "common.btn.back", data: dataCmd + cmdBack})
	}
	if at.traits().form {
		return append(row, btn{label: "common.btn.cancel", data: dataCmd + cmdCancel})
	}
	return append(row, btn{label: "common.btn.menu", data: dataMenu})
}

// humanRow is the "Talk to a person" button of a dead end, or nil.
func (r *run) humanRow() []btn {
	if r.e.human == "" {
		return nil
	}
	return []btn{{label: "common.btn.human", data: dataCmd + r.e.human}}
}

// prompt shows a state's message with its choices.
func (r *run) prompt(at step, t *Turn) error {
	if at.s.Prompt == "" {
		return nil
	}
	fr := at.fr
	data := make(map[string]any, len(fr.Vars)+len(t.Data))
	for k, v := range fr.Vars {
		if k[0] != '_' { // the kit's own vars are not for display
			data[k] = v
		}
	}
	for k, v := range t.Data {
		data[k] = v
	}
	tr := at.traits()
	o := out{id: at.s.Prompt, data: data, edit: r.editID, secret: tr.secret, keep: tr.end}
	if at.s.Input != nil {
		if err := at.s.Input.draw(r, at, t, &o); err != nil {
			return fmt.Errorf("flow %s: state %s: %w", at.f.Name, at.s.Name, err)
		}
	}
	var fixed []btn
	for _, b := range at.s.Buttons {
		fixed = append(fixed, btn{label: b.Label, data: callbackData(at.f.Name, at.s.Name, kindEvent, b.Event)})
	}
	o.buttons = append(o.buttons, pairs(fixed)...)
	if !tr.end && !tr.ownNav && !tr.relay { // a live chat is left by its own button or /menu
		o.buttons = append(o.buttons, r.navRow(at))
	}
	r.outs = append(r.outs, o)
	return nil
}

// menuButtons lists the main menu for the session's login state.
func (r *run) menuButtons() [][]btn {
	member := r.sess.Token != ""
	var bs []btn
	for _, f := range r.e.order {
		if f.Menu == MenuAlways || (f.Menu == MenuGuest && !member) || (f.Menu == MenuMember && member) {
			bs = append(bs, btn{label: f.Title, data: dataMenu + f.Name})
		}
	}
	bs = append(bs, btn{label: "menu.language", data: dataMenu + cmdLang}, btn{label: "menu.help", data: dataMenu + cmdHelp})
	return pairs(bs)
}

func (r *run) menu() error {
	o := out{id: "menu.prompt", buttons: r.menuButtons()}
	if r.sess.Token != "" {
		o.id, o.data = "menu.prompt_member", map[string]any{"Name": r.sess.Customer}
	}
	r.outs = append(r.outs, o)
	return nil
}

// attachMenu puts the main menu under the last message of a finished flow.
func (r *run) attachMenu() {
	if n := len(r.outs); n > 0 && r.outs[n-1].del == 0 {
		r.outs[n-1].buttons = append(r.outs[n-1].buttons, r.menuButtons()...)
		return
	}
	_ = r.menu()
}
