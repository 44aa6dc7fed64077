package bot_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"supportbot/bot"
)

// secretFlow asks for a password, then for a note.
func secretFlow() bot.Flow {
	return bot.Flow{Name: "pw", Start: "ask", States: []bot.State{
		{Name: "ask", Prompt: "k.word", Input: bot.Secret{Check: anyText}, On: bot.On{bot.EventNext: "then"}},
		thenState(),
		endState(),
	}}
}

// deletedIDs returns the message ids replies delete.
func deletedIDs(replies []bot.Reply) []int {
	var ids []int
	for _, r := range replies {
		if r.DeleteID != 0 {
			ids = append(ids, r.DeleteID)
		}
	}
	return ids
}

// TestSensitiveContent: a card number is deleted wherever the adapter
// found it — typed with dots, in a photo's caption, in an edited message —
// and whatever arrives at a password step is deleted, a captioned photo
// too. No reply repeats what was deleted, and no edit is taken as an
// answer.
func TestSensitiveContent(t *testing.T) {
	const (
		card     = "4111.1111.1111.1111"
		password = "hunter2-caption"
	)
	warning := "looked like a payment card"
	tests := []struct {
		name string
		// flow is started first, if set.
		flow string
		in   bot.Inbound
		// want is in the replies; deleted is the message deleted (0: none).
		want    string
		deleted int
		// state is where the flow is afterwards ("" = no flow).
		state string
	}{
		{name: "typed with dots", in: bot.Inbound{Text: "my card " + card, MessageID: 7}, want: warning, deleted: 7},
		{name: "in a photo's caption", in: bot.Inbound{Unsupported: true, Caption: card, MessageID: 7}, want: warning, deleted: 7},
		{name: "in a caption at a step", flow: "conf", in: bot.Inbound{Unsupported: true, Caption: "card " + card, MessageID: 7},
			want: warning, deleted: 7, state: "ask"},
		{name: "a photo's other caption", in: bot.Inbound{Unsupported: true, Caption: "look at this", MessageID: 7}, want: "only read text"},
		{name: "in an edit", in: bot.Inbound{Edited: true, Text: "paid with " + card, MessageID: 7}, want: warning, deleted: 7},
		{name: "in an edited caption", in: bot.Inbound{Edited: true, Unsupported: true, Caption: card, MessageID: 7}, want: warning, deleted: 7},
		{name: "an edit is no answer", flow: "conf", in: bot.Inbound{Edited: true, Text: "hello", MessageID: 7},
			want: "don't read edited messages", state: "ask"},
		{name: "an edited command is no command", flow: "conf", in: bot.Inbound{Edited: true, Text: "/cancel", MessageID: 7},
			want: "don't read edited messages", state: "ask"},
		{name: "caption at the password step", flow: "pw", in: bot.Inbound{Unsupported: true, Caption: password, MessageID: 7},
			want: "only read text", deleted: 7, state: "ask"},
		{name: "voice note at the password step", flow: "pw", in: bot.Inbound{Unsupported: true, MessageID: 7},
			want: "only read text", deleted: 7, state: "ask"},
		{name: "card caption at the password step", flow: "pw", in: bot.Inbound{Unsupported: true, Caption: card, MessageID: 7},
			want: warning, deleted: 7, state: "ask"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var keys []string
			c := newKitChat(t, confirmFlow(0, &keys), secretFlow())
			if tt.flow != "" {
				c.start(t, tt.flow)
			}
			replies := c.send(t, tt.in)
			if got := joined(replies); !strings.Contains(got, tt.want) {
				t.Errorf("replies %q, want one containing %q", got, tt.want)
			}
			var want []int
			if tt.deleted != 0 {
				want = []int{tt.deleted}
			}
			if got := deletedIDs(replies); !slices.Equal(got, want) {
				t.Errorf("deleted %v, want %v", got, want)
			}
			for _, r := range replies {
				if strings.Contains(r.Text, "4111") || strings.Contains(r.Text, password) {
					t.Errorf("a reply repeats what was sent: %q", r.Text)
				}
			}
			fr := c.top(t)
			if fr.State != tt.state {
				t.Errorf("state %q, want %q", fr.State, tt.state)
			}
			if fr.Vars["word"] != "" {
				t.Errorf("Vars[word] = %q: taken as an answer", fr.Vars["word"])
			}
		})
	}
}

// listFlow lists pages of numbered options, as a portal would: a page past
// the end shows the last one; a page beyond what the portal takes fails.
func listFlow(pages int, asked *[]int) bot.Flow {
	list := func(_ context.Context, t *bot.Turn) (string, error) {
		*asked = append(*asked, t.Page())
		if t.Page() > 1<<20 { // the demo portal's own bound
			return "", &bot.UserError{MsgID: "k.oops"}
		}
		if t.Page() > pages {
			t.SetPage(pages)
		}
		for i := range t.PageSize() {
			n := (t.Page()-1)*t.PageSize() + i + 1
			t.Options = append(t.Options, bot.Option{Value: strconv.Itoa(n), Label: "#" + strconv.Itoa(n)})
		}
		t.More = t.Page() < pages
		return "", nil
	}
	return bot.Flow{Name: "lst", Start: "pick", States: []bot.State{
		{Name: "pick", Prompt: "k.opts", Enter: list, Input: bot.List{Var: "n"}, On: bot.On{bot.EventNext: "then"}},
		thenState(),
		endState(),
	}}
}

// TestListForgedPage: a page button with a number no list reaches is
// stale — the list stays where it was, and the page never reaches the
// portal — while a page past the end shows the last page.
func TestListForgedPage(t *testing.T) {
	var asked []int
	c := newKitChat(t, listFlow(3, &asked))
	c.start(t, "lst")
	for _, page := range []string{"999999999999", "9223372036854775807", "10001"} {
		replies := c.press(t, "lst.pick|p:"+page, 1)
		if got := joined(replies); !strings.Contains(got, "earlier message") || strings.Contains(got, "Portal down") {
			t.Errorf("page %s: replies %q, want the stale-button note and the list", page, got)
		}
		if fr := c.top(t); fr.State != "pick" || fr.Pages["pick"] > 1 {
			t.Errorf("page %s: at %s page %d, want pick page 1", page, fr.State, fr.Pages["pick"])
		}
	}
	r := last(t, c.press(t, "lst.pick|p:50", 1))
	if got := labels(r.Buttons); len(got) == 0 || got[0][0] != "#11" {
		t.Errorf("page past the end: buttons %q, want the last page (#11…#15)", got)
	}
	for _, p := range asked {
		if p > 10000 {
			t.Errorf("page %d asked of the portal", p)
		}
	}
}
