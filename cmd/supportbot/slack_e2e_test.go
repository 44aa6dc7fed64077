package main

import (
	"context"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"supportbot/bot/slack/slackfake"
	"supportbot/portal"
	"supportbot/portal/demo"
)

// The ticket round trip end to end: a customer on the fake Bot API talks to
// Main, staff act in a fake Slack (Socket Mode or signed HTTP), the demo
// portal runs on its own, and the result is read back from the portal.

const (
	staffID       = "U0STAFF"
	outsiderID    = "U0OTHER"
	signingSecret = "test-signing-secret"
	shipChannel   = "C0SHIP"
)

// slackWorld is a Main with the staff side on a fake Slack.
type slackWorld struct {
	*planWorld
	slack  *slackfake.Server
	socket bool
	listen string // HTTP mode: where Main serves Slack's requests
}

func openSlackWorld(t *testing.T, socket bool) *slackWorld {
	t.Helper()
	fake := slackfake.New(t)
	fake.AddUser(staffID, "avi", "Avi Mizrahi", "Avi")
	fake.AddUser(outsiderID, "eve", "Eve Other", "Eve")
	w := &slackWorld{slack: fake, socket: socket}
	w.planWorld = openPlanWorldWith(t, func(c *Config) {
		c.SlackBotToken = "xoxb-test-token"
		c.SlackAPIURL = strings.TrimSuffix(fake.APIURL(), "/") // as an operator may write it
		c.SlackChannels = "billing=C0BILL,technical=C0TECH,shipping=" + shipChannel + ",sales=C0SALES"
		c.SlackStaff = staffID
		if socket {
			c.SlackAppToken = "xapp-test-token"
			return
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		w.listen = ln.Addr().String()
		ln.Close()
		c.SlackSigningSecret = signingSecret
		c.SlackListen = w.listen
	})
	return w
}

// act delivers an interaction from Slack the way the mode does, and
// returns the acknowledgement's payload or body.
func (w *slackWorld) act(payload map[string]any) string {
	w.t.Helper()
	if w.socket {
		id := w.slack.Send(w.t, "interactive", payload)
		return string(w.slack.WaitAck(w.t, id))
	}
	var code int
	var body []byte
	// The HTTP server may still be starting.
	w.slack.WaitFor(w.t, func() bool {
		code, body = w.slack.PostInteraction(w.t, "http://"+w.listen+"/slack/interactivity", signingSecret, payload)
		return code != 0 && code != http.StatusBadGateway
	})
	if code != http.StatusOK {
		w.t.Fatalf("interaction answered %d: %s", code, body)
	}
	return string(body)
}

var ticketID = regexp.MustCompile(`T-\d+`)

// TestSlackTicketRoundTripSocket and ...HTTP: a customer writing in Hebrew
// asks for a person; the ticket appears in the shipping channel with the
// customer's details; a non-staff user cannot claim it; staff claim it and
// answer through the Reply modal; the customer sees it in Hebrew and
// answers in the thread; staff close it with a note; the customer rates it
// and the rating appears in the thread. The portal holds it all.
func TestSlackTicketRoundTripSocket(t *testing.T) { testSlackRoundTrip(t, true) }
func TestSlackTicketRoundTripHTTP(t *testing.T)   { testSlackRoundTrip(t, false) }

func testSlackRoundTrip(t *testing.T, socket bool) {
	const chat = 7101
	w := openSlackWorld(t, socket)
	c := w.customer(chat, "יעל", "he")

	c.say("/human")
	start := c.await(0, "the human start", hasButton("human.start|e:guest"))
	c.press(start, "human.start|e:guest")
	askEmail := c.await(start.ID, "the email prompt", containing(msg(t, "he", "support.ask_email.prompt", nil)))
	c.say("yael.guest@example.com")
	dept := c.await(askEmail.ID, "the departments", hasButton("human.dept|v:shipping"))
	c.press(dept, "human.dept|v:shipping")
	askMsg := c.await(dept.ID, "the first-message prompt", containing(msg(t, "he", "human.message.prompt", nil)))
	c.say("החבילה שלי לא הגיעה")
	live := c.await(askMsg.ID, "the live chat", hasButton("human.live|e:leave"))
	id := ticketID.FindString(live.Text)
	if id == "" || !firstStrongRTL(live.Text) {
		t.Fatalf("live chat screen names no ticket or is not right-to-left: %q", live.Text)
	}

	// The ticket in the shipping channel, with who and what.
	var root slackfake.Message
	w.slack.WaitFor(t, func() bool {
		for _, m := range w.slack.Messages(shipChannel) {
			if m.ThreadTS == "" && strings.Contains(string(m.Blocks), id) {
				root = m
				return true
			}
		}
		return false
	})
	for _, want := range []string{"yael.guest@example.com", "יעל", "החבילה שלי לא הגיעה", "ticket_claim", "ticket_reply", "ticket_close"} {
		if !strings.Contains(string(root.Blocks)+root.Text, want) {
			t.Errorf("ticket message lacks %q:\n%s", want, root.Blocks)
		}
	}

	// Someone not on staff cannot claim it.
	w.act(w.slack.BlockAction(outsiderID, "eve", "ticket_claim", id, shipChannel, root.TS, ""))
	w.slack.WaitFor(t, func() bool { return len(w.slack.Ephemerals()) > 0 })
	if e := w.slack.Ephemerals()[0]; e.User != outsiderID {
		t.Errorf("refusal went to %s, want %s", e.User, outsiderID)
	}

	// Claim: the customer hears who is on it.
	w.act(w.slack.BlockAction(staffID, "avi", "ticket_claim", id, shipChannel, root.TS, ""))
	claimed := c.await(live.ID, "the claim notice", containing("Avi"))

	// Reply through the modal.
	w.act(w.slack.BlockAction(staffID, "avi", "ticket_reply", id, shipChannel, root.TS, ""))
	w.slack.WaitFor(t, func() bool { return len(w.slack.Views()) > 0 })
	w.act(w.slack.ViewSubmission(staffID, "avi", "ticket_reply", id, map[string]map[string]string{"reply": {"text": "שלום יעל, אני בודק עם השליח"}}))
	reply := c.await(claimed.ID, "the staff reply", containing("אני בודק עם השליח"))
	if !strings.Contains(reply.Text, "Avi") || !firstStrongRTL(reply.Text) {
		t.Errorf("staff reply shown as %q; want the agent's name, right to left", reply.Text)
	}

	// The customer answers: it lands in the thread, once.
	c.say("תודה רבה")
	w.slack.WaitFor(t, func() bool { return threadHas(w.slack.Thread(shipChannel, root.TS), "תודה רבה") == 1 })

	// Close with a note: the customer is asked for a rating.
	w.act(w.slack.BlockAction(staffID, "avi", "ticket_close", id, shipChannel, root.TS, ""))
	w.slack.WaitFor(t, func() bool { return len(w.slack.Views()) > 1 })
	w.act(w.slack.ViewSubmission(staffID, "avi", "ticket_close", id, map[string]map[string]string{"note": {"text": "נשלחה חבילה חדשה"}}))
	rate := c.await(reply.ID, "the rating question", hasButton("human.rate|v:5"))
	if !strings.Contains(rate.Text, "נשלחה חבילה חדשה") {
		t.Errorf("rating question lacks the closing note: %q", rate.Text)
	}
	c.press(rate, "human.rate|v:5")
	c.await(rate.ID, "the thanks", containing(msg(t, "he", "support.thanks.prompt", nil)))
	w.slack.WaitFor(t, func() bool { return threadHas(w.slack.Thread(shipChannel, root.TS), "5/5") == 1 })

	// The portal has it all.
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	st, err := portal.NewClient(w.portalURL, portal.WithStaffKey(demo.DefaultStaffKey)).StaffTicket(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	tk := st.Ticket
	if tk.Status != portal.TicketClosed || tk.Rating != 5 || tk.Department != "shipping" || tk.Assignee == "" || st.Customer.Email != "yael.guest@example.com" {
		t.Errorf("portal ticket = status %s, rating %d, department %s, assignee %q, email %q", tk.Status, tk.Rating, tk.Department, tk.Assignee, st.Customer.Email)
	}
	var bodies []string
	for _, m := range tk.Messages {
		bodies = append(bodies, m.From+": "+m.Body)
	}
	for _, want := range []string{"customer: החבילה שלי לא הגיעה", "staff: שלום יעל, אני בודק עם השליח", "customer: תודה רבה"} {
		if !strings.Contains(strings.Join(bodies, "\n"), want) {
			t.Errorf("portal messages lack %q:\n%s", want, strings.Join(bodies, "\n"))
		}
	}
	c.finish("")
}

// threadHas counts the thread messages containing s.
func threadHas(msgs []slackfake.Message, s string) int {
	n := 0
	for _, m := range msgs {
		if strings.Contains(m.Text+string(m.Blocks), s) {
			n++
		}
	}
	return n
}

// firstStrongRTL reports whether the first letter of s, skipping emoji,
// marks and isolates, is Hebrew or an RLM: Telegram lays s out right to
// left.
func firstStrongRTL(s string) bool {
	for _, r := range s {
		switch {
		case r == '\u200f' || unicode.Is(unicode.Hebrew, r):
			return true
		case r == '\u200e' || unicode.IsLetter(r) || unicode.IsDigit(r):
			return false
		}
	}
	return false
}
