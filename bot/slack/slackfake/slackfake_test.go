package slackfake_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"supportbot/bot/slack/slackfake"
)

const (
	botToken = "xoxb-test"
	appToken = "xapp-test"
	channel  = "C123"
)

func newClient(s *slackfake.Server, opts ...slack.Option) *slack.Client {
	return slack.New(botToken, append([]slack.Option{slack.OptionAPIURL(s.APIURL())}, opts...)...)
}

func button(actionID, label, value string) slack.Block {
	return slack.NewActionBlock("handoff",
		slack.NewButtonBlockElement(actionID, value, slack.NewTextBlockObject(slack.PlainTextType, label, false, false)))
}

func TestPostUpdateAndThread(t *testing.T) {
	s := slackfake.New(t)
	api := newClient(s)

	ch, parent, err := api.PostMessage(channel,
		slack.MsgOptionText("new handoff", false),
		slack.MsgOptionBlocks(button("claim", "Claim", "sess-1")),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: "handoff", EventPayload: map[string]any{"session": "telegram:42"}}))
	if err != nil {
		t.Fatalf("PostMessage: %v", err)
	}
	if ch != channel {
		t.Errorf("channel = %q, want %q", ch, channel)
	}
	_, reply, err := api.PostMessage(channel, slack.MsgOptionText("customer says hi", false), slack.MsgOptionTS(parent))
	if err != nil {
		t.Fatalf("PostMessage reply: %v", err)
	}
	if !(reply > parent) || strings.HasSuffix(parent, ".000000") || strings.HasSuffix(reply, ".000000") {
		t.Errorf("ts parent %q, reply %q: want distinct, increasing, not whole seconds", parent, reply)
	}

	if _, _, _, err := api.UpdateMessage(channel, parent, slack.MsgOptionText("claimed by Dana", false)); err != nil {
		t.Fatalf("UpdateMessage: %v", err)
	}
	_, _, _, err = api.UpdateMessage(channel, "1.000001", slack.MsgOptionText("x", false))
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "message_not_found" {
		t.Errorf("UpdateMessage unknown ts: err = %v, want message_not_found", err)
	}

	msgs := s.Messages(channel)
	if len(msgs) != 2 {
		t.Fatalf("Messages = %d, want 2", len(msgs))
	}
	if got := msgs[0]; got.Text != "claimed by Dana" || got.Updated != 1 || got.ThreadTS != "" {
		t.Errorf("parent = %+v, want updated text, Updated 1, no thread", got)
	}
	var blocks []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(msgs[0].Blocks, &blocks); err != nil || len(blocks) != 1 || blocks[0].Elements[0].Value != "sess-1" {
		t.Errorf("blocks = %s (%v), want the claim button kept across update", msgs[0].Blocks, err)
	}
	var meta slack.SlackMetadata
	if err := json.Unmarshal(msgs[0].Metadata, &meta); err != nil || meta.EventType != "handoff" {
		t.Errorf("metadata = %s (%v), want event_type handoff", msgs[0].Metadata, err)
	}
	if th := s.Thread(channel, parent); len(th) != 1 || th[0].TS != reply || th[0].Text != "customer says hi" {
		t.Errorf("Thread = %+v, want the one reply", th)
	}

	got, _, _, err := api.GetConversationReplies(&slack.GetConversationRepliesParameters{
		ChannelID: channel, Timestamp: parent, IncludeAllMetadata: true})
	if err != nil {
		t.Fatalf("GetConversationReplies: %v", err)
	}
	if len(got) != 2 || got[0].Timestamp != parent || got[0].ReplyCount != 1 || got[1].ThreadTimestamp != parent {
		t.Errorf("replies = %+v, want parent (1 reply) then reply", got)
	}
	if got[0].Metadata.EventType != "handoff" {
		t.Errorf("replies parent metadata = %+v, want handoff", got[0].Metadata)
	}
	hist, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: channel})
	if err != nil {
		t.Fatalf("GetConversationHistory: %v", err)
	}
	if len(hist.Messages) != 1 || hist.Messages[0].Timestamp != parent || hist.Messages[0].Metadata.EventType != "" {
		t.Errorf("history = %+v, want only the parent, without metadata unless asked", hist.Messages)
	}
}

func TestEphemeralViewsUsers(t *testing.T) {
	s := slackfake.New(t)
	s.AddUser("U1", "dana", "Dana Levi", "Dana")
	api := newClient(s)

	ts, err := api.PostEphemeral(channel, "U1", slack.MsgOptionText("only you", false))
	if err != nil {
		t.Fatalf("PostEphemeral: %v", err)
	}
	if e := s.Ephemerals(); len(e) != 1 || e[0].TS != ts || e[0].User != "U1" || e[0].Text != "only you" {
		t.Errorf("Ephemerals = %+v", e)
	}

	view := slack.ModalViewRequest{
		Type:       slack.VTModal,
		CallbackID: "reply",
		Title:      slack.NewTextBlockObject(slack.PlainTextType, "Reply", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewInputBlock("msg",
			slack.NewTextBlockObject(slack.PlainTextType, "Message", false, false), nil,
			slack.NewPlainTextInputBlockElement(nil, "text"))}},
	}
	resp, err := api.OpenView("trig-1", view)
	if err != nil {
		t.Fatalf("OpenView: %v", err)
	}
	if resp.ID == "" || resp.CallbackID != "reply" || resp.TeamID != slackfake.TeamID {
		t.Errorf("OpenView = %+v", resp.View)
	}
	views := s.Views()
	if len(views) != 1 || views[0].ID != resp.ID || views[0].TriggerID != "trig-1" {
		t.Fatalf("Views = %+v", views)
	}
	view.CallbackID = "reply2"
	if _, err := api.UpdateView(view, "", resp.Hash, resp.ID); err != nil {
		t.Fatalf("UpdateView: %v", err)
	}
	if v := s.Views()[0]; v.Updated != 1 || !strings.Contains(string(v.View), "reply2") {
		t.Errorf("updated view = %+v", v)
	}

	u, err := api.GetUserInfo("U1")
	if err != nil {
		t.Fatalf("GetUserInfo: %v", err)
	}
	if u.ID != "U1" || u.Name != "dana" || u.RealName != "Dana Levi" || u.Profile.FirstName != "Dana" || u.Profile.RealName != "Dana Levi" {
		t.Errorf("user = %+v", u)
	}
	_, err = api.GetUserInfo("U404")
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "user_not_found" {
		t.Errorf("GetUserInfo unknown: %v, want user_not_found", err)
	}

	at, err := api.AuthTest()
	if err != nil || at.UserID != slackfake.BotUserID || at.BotID != slackfake.BotID || at.TeamID != slackfake.TeamID {
		t.Errorf("AuthTest = %+v, %v", at, err)
	}
}

func TestFaults(t *testing.T) {
	s := slackfake.New(t)
	api := newClient(s)

	s.RateLimit("chat.postMessage", 1, 7)
	_, _, err := api.PostMessage(channel, slack.MsgOptionText("a", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
		t.Fatalf("rate limited: err = %v, want *RateLimitedError{7s}", err)
	}

	s.Fail("chat.postMessage", 1, http.StatusServiceUnavailable)
	_, _, err = api.PostMessage(channel, slack.MsgOptionText("b", false))
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != http.StatusServiceUnavailable {
		t.Fatalf("Fail: err = %v, want StatusCodeError 503", err)
	}
	if n := len(s.Messages(channel)); n != 0 {
		t.Fatalf("after 429 and Fail: %d messages, want 0", n)
	}

	s.FailAfterApply("chat.postMessage", 1, http.StatusBadGateway)
	_, _, err = api.PostMessage(channel, slack.MsgOptionText("c", false))
	if !errors.As(err, &sc) || sc.Code != http.StatusBadGateway {
		t.Fatalf("FailAfterApply: err = %v, want StatusCodeError 502", err)
	}
	if m := s.Messages(channel); len(m) != 1 || m[0].Text != "c" {
		t.Fatalf("after FailAfterApply: %+v, want the message applied", m)
	}
	if _, _, err := api.PostMessage(channel, slack.MsgOptionText("d", false)); err != nil {
		t.Fatalf("after faults: %v", err)
	}

	calls := s.Calls("chat.postMessage")
	var statuses []int
	for _, c := range calls {
		statuses = append(statuses, c.Status)
	}
	want := []int{429, 503, 502, 200}
	if len(statuses) != len(want) {
		t.Fatalf("statuses = %v, want %v", statuses, want)
	}
	for i := range want {
		if statuses[i] != want[i] {
			t.Fatalf("statuses = %v, want %v", statuses, want)
		}
	}
	if calls[3].Arg("text") != "d" || calls[0].At.After(calls[3].At) {
		t.Errorf("last call = %+v", calls[3])
	}
}

func TestAuthAndUnknownMethod(t *testing.T) {
	s := slackfake.New(t)
	post := func(method, ct, auth, body string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, s.APIURL()+method, strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r struct {
			OK    bool   `json:"ok"`
			Error string `json:"error"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			t.Fatal(err)
		}
		if r.OK {
			return "ok"
		}
		return r.Error
	}
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name, method, ct, auth, body, want string
	}{
		{"no token", "chat.postMessage", form, "", "channel=C1&text=x", "not_authed"},
		{"app token for bot method", "chat.postMessage", form, "", "token=xapp-1&channel=C1&text=x", "invalid_auth"},
		{"form token", "chat.postMessage", form, "", "token=xoxb-1&channel=C1&text=x", "ok"},
		{"json bearer", "chat.postMessage", "application/json", "Bearer xoxb-1", `{"channel":"C1","text":"x","blocks":[]}`, "ok"},
		{"json no token", "views.open", "application/json", "", `{"trigger_id":"t","view":{"type":"modal"}}`, "not_authed"},
		{"bot token for connections", "apps.connections.open", "application/json", "Bearer xoxb-1", `{}`, "invalid_auth"},
		{"unknown", "chat.delete", form, "", "token=xoxb-1", "unknown_method"},
		{"no text", "chat.postMessage", form, "", "token=xoxb-1&channel=C1", "no_text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := post(tt.method, tt.ct, tt.auth, tt.body); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestResponseURL(t *testing.T) {
	s := slackfake.New(t)
	api := newClient(s)
	_, ts, err := api.PostMessage(channel, slack.MsgOptionText("handoff", false), slack.MsgOptionBlocks(button("claim", "Claim", "s1")))
	if err != nil {
		t.Fatal(err)
	}
	p := s.BlockAction("U1", "dana", "claim", "s1", channel, ts, "")
	if _, _, err := api.PostMessage(channel, slack.MsgOptionText("claimed", false),
		slack.MsgOptionResponseURL(p["response_url"].(string), slack.ResponseTypeEphemeral)); err != nil {
		t.Fatalf("response_url post: %v", err)
	}
	r := s.Responses()
	if len(r) != 1 || !strings.Contains(string(r[0].Body), `"claimed"`) {
		t.Errorf("Responses = %+v", r)
	}
}

// nextEvent returns the next socketmode event whose type is one of types.
func nextEvent(t *testing.T, c *socketmode.Client, types ...socketmode.EventType) socketmode.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-c.Events:
			for _, typ := range types {
				if e.Type == typ {
					return e
				}
			}
		case <-timeout:
			t.Fatalf("no %v event within 10s", types)
		}
	}
}

func TestSocketMode(t *testing.T) {
	s := slackfake.New(t)
	api := newClient(s, slack.OptionAppLevelToken(appToken))
	client := socketmode.New(api)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = client.RunContext(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })

	hello := nextEvent(t, client, socketmode.EventTypeHello)
	if hello.Request.ConnectionInfo.AppID != slackfake.AppID || hello.Request.NumConnections != 1 {
		t.Errorf("hello = %+v", hello.Request)
	}

	// events_api: a staff reply in a handoff thread.
	msg := s.ThreadMessage(channel, "1700000000.000100", "U9", "on it")
	id := s.Send(t, "events_api", s.EventCallback(msg, slackfake.WithEventID("Ev1")))
	e := nextEvent(t, client, socketmode.EventTypeEventsAPI)
	if e.Request.EnvelopeID != id || e.Request.AcceptsResponsePayload || e.Request.RetryAttempt != 0 {
		t.Errorf("envelope = %+v", e.Request)
	}
	ev, ok := e.Data.(slackevents.EventsAPIEvent)
	if !ok {
		t.Fatalf("data = %T", e.Data)
	}
	cb := ev.Data.(*slackevents.EventsAPICallbackEvent)
	me, ok := ev.InnerEvent.Data.(*slackevents.MessageEvent)
	if !ok || cb.EventID != "Ev1" || me.ThreadTimeStamp != "1700000000.000100" || me.Text != "on it" || me.User != "U9" {
		t.Fatalf("event = %+v / %+v", cb, ev.InnerEvent.Data)
	}
	client.Ack(*e.Request)
	if p := s.WaitAck(t, id); string(p) != "null" {
		t.Errorf("ack payload = %s, want null", p)
	}

	// Redelivery carries retry_attempt and retry_reason.
	s.Redeliver(t, id)
	e = nextEvent(t, client, socketmode.EventTypeEventsAPI)
	if e.Request.EnvelopeID != id || e.Request.RetryAttempt != 1 || e.Request.RetryReason != "timeout" {
		t.Errorf("redelivered = %+v", e.Request)
	}

	// interactive: a button click, acked with a payload.
	id = s.Send(t, "interactive", s.BlockAction("U9", "dana", "claim", "s1", channel, "1700000000.000100", ""))
	e = nextEvent(t, client, socketmode.EventTypeInteractive)
	cbk, ok := e.Data.(slack.InteractionCallback)
	if !ok || cbk.Type != slack.InteractionTypeBlockActions || len(cbk.ActionCallback.BlockActions) != 1 ||
		cbk.ActionCallback.BlockActions[0].ActionID != "claim" || cbk.Container.ChannelID != channel || !e.Request.AcceptsResponsePayload {
		t.Fatalf("interactive = %+v", e.Data)
	}
	client.Ack(*e.Request, map[string]any{"text": "ok"})
	if p := s.WaitAck(t, id); !strings.Contains(string(p), `"ok"`) {
		t.Errorf("ack payload = %s", p)
	}

	// slash_commands.
	id = s.Send(t, "slash_commands", s.SlashCommand("U9", "dana", "/support", "status", channel))
	e = nextEvent(t, client, socketmode.EventTypeSlashCommand)
	sc, ok := e.Data.(slack.SlashCommand)
	if !ok || sc.Command != "/support" || sc.Text != "status" || sc.ResponseURL == "" {
		t.Fatalf("slash = %+v", e.Data)
	}
	client.Ack(*e.Request)
	s.WaitAck(t, id)

	// A refresh: the client reconnects and gets envelopes again.
	s.Disconnect()
	nextEvent(t, client, socketmode.EventTypeHello)
	id = s.Send(t, "events_api", s.EventCallback(s.ThreadMessage(channel, "1700000000.000100", "U9", "again")))
	e = nextEvent(t, client, socketmode.EventTypeEventsAPI)
	client.Ack(*e.Request)
	s.WaitAck(t, id)
	if n := len(s.Calls("apps.connections.open")); n != 2 {
		t.Errorf("apps.connections.open calls = %d, want 2", n)
	}
}

// received is one request that reached the app endpoint from newApp.
type received struct {
	header http.Header
	body   []byte
}

// newApp starts an app endpoint that verifies signatures with slack-go
// (401 when they fail) and passes on what it received.
func newApp(t *testing.T, secret string) (*httptest.Server, chan received) {
	got := make(chan received, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		v, err := slack.NewSecretsVerifier(r.Header, secret)
		if err == nil {
			_, _ = v.Write(body)
			err = v.Ensure()
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		got <- received{r.Header, body}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestSignedRequests(t *testing.T) {
	const secret = "shhh"
	s := slackfake.New(t)
	app, got := newApp(t, secret)

	status, _ := s.PostEvent(t, app.URL, secret, s.ThreadMessage(channel, "1700000000.000100", "U9", "hi"),
		slackfake.WithEventID("Ev42"), slackfake.WithRetry(1, "http_timeout"))
	if status != http.StatusOK {
		t.Fatalf("PostEvent status = %d", status)
	}
	r := <-got
	if r.header.Get("X-Slack-Retry-Num") != "1" || r.header.Get("X-Slack-Retry-Reason") != "http_timeout" {
		t.Errorf("retry headers = %v", r.header)
	}
	ev, err := slackevents.ParseEvent(r.body, slackevents.OptionNoVerifyToken())
	if err != nil {
		t.Fatalf("ParseEvent: %v", err)
	}
	if cb := ev.Data.(*slackevents.EventsAPICallbackEvent); cb.EventID != "Ev42" || cb.TeamID != slackfake.TeamID {
		t.Errorf("callback = %+v", cb)
	}
	if me, ok := ev.InnerEvent.Data.(*slackevents.MessageEvent); !ok || me.Text != "hi" {
		t.Errorf("inner = %+v", ev.InnerEvent.Data)
	}

	for name, opt := range map[string]slackfake.Option{
		"bad signature": slackfake.WithBadSignature(),
		"stale":         slackfake.WithStaleTimestamp(),
	} {
		if status, _ := s.PostEvent(t, app.URL, secret, map[string]any{"type": "message"}, opt); status != http.StatusUnauthorized {
			t.Errorf("%s: status = %d, want 401", name, status)
		}
	}

	subm := s.ViewSubmission("U9", "dana", "reply", "telegram:42", map[string]map[string]string{"msg": {"text": "hello"}})
	if status, _ := s.PostInteraction(t, app.URL, secret, subm); status != http.StatusOK {
		t.Fatalf("PostInteraction status = %d", status)
	}
	r = <-got
	form, err := url.ParseQuery(string(r.body))
	if err != nil {
		t.Fatal(err)
	}
	var ic slack.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &ic); err != nil {
		t.Fatalf("payload: %v", err)
	}
	if ic.Type != slack.InteractionTypeViewSubmission || ic.View.CallbackID != "reply" || ic.View.PrivateMetadata != "telegram:42" ||
		ic.View.State.Values["msg"]["text"].Value != "hello" {
		t.Errorf("view_submission = %+v", ic.View)
	}

	if status, _ := s.PostCommand(t, app.URL, secret, s.SlashCommand("U9", "dana", "/support", "help", channel)); status != http.StatusOK {
		t.Fatalf("PostCommand status = %d", status)
	}
	r = <-got
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(r.body)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	cmd, err := slack.SlashCommandParse(req)
	if err != nil || cmd.Command != "/support" || cmd.Text != "help" || cmd.UserID != "U9" || cmd.TriggerID == "" {
		t.Errorf("slash command = %+v, %v", cmd, err)
	}
}
