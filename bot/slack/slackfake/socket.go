package slackfake

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// pingInterval is how often the fake pings each Socket Mode connection;
// slack-go drops a connection that has not been pinged for 30 s.
const pingInterval = 5 * time.Second

// envelope is a Socket Mode message carrying a payload to the app.
type envelope struct {
	EnvelopeID             string          `json:"envelope_id"`
	Type                   string          `json:"type"`
	Payload                json.RawMessage `json:"payload"`
	AcceptsResponsePayload bool            `json:"accepts_response_payload"`
	RetryAttempt           int             `json:"retry_attempt"`
	RetryReason            string          `json:"retry_reason"`
}

type wsConn struct {
	ws   *websocket.Conn
	wmu  sync.Mutex // gorilla allows one concurrent writer
	done chan struct{}
}

func (c *wsConn) writeJSON(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(waitTimeout))
	return c.ws.WriteJSON(v)
}

var upgrader = websocket.Upgrader{
	// slack-go dials with Origin: https://api.slack.com; accept any origin.
	CheckOrigin: func(*http.Request) bool { return true },
}

// notify wakes goroutines waiting for a connection change; s.mu must be held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	valid := s.tickets[ticket]
	delete(s.tickets, ticket) // URLs from apps.connections.open are single-use
	s.mu.Unlock()
	if !valid {
		http.Error(w, "invalid or used ticket", http.StatusUnauthorized)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered the client
	}
	c := &wsConn{ws: ws, done: make(chan struct{})}

	s.mu.Lock()
	select {
	case <-s.closing:
		s.mu.Unlock()
		ws.Close()
		return
	default:
	}
	hello := map[string]any{
		"type":            "hello",
		"num_connections": len(s.conns) + 1,
		"debug_info": map[string]any{
			"host":                        "slackfake",
			"build_number":                1,
			"approximate_connection_time": 18060,
		},
		"connection_info": map[string]any{"app_id": AppID},
	}
	// Hello goes out before the connection is offered to Send, so it is
	// always the first message the client reads.
	if err := c.writeJSON(hello); err != nil {
		s.mu.Unlock()
		ws.Close()
		return
	}
	s.conns = append(s.conns, c)
	s.notify()
	s.wg.Add(2)
	s.mu.Unlock()

	go s.ping(c)
	s.read(c)
}

// ping sends WebSocket pings until the connection ends.
func (s *Server) ping(c *wsConn) {
	defer s.wg.Done()
	t := time.NewTicker(pingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			if err := c.ws.WriteControl(websocket.PingMessage, []byte("slackfake"), time.Now().Add(waitTimeout)); err != nil {
				return
			}
		}
	}
}

// read records acks until the connection ends, then forgets it.
func (s *Server) read(c *wsConn) {
	defer s.wg.Done()
	defer func() {
		close(c.done)
		c.ws.Close()
		s.dropConn(c)
	}()
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &ack) != nil || ack.EnvelopeID == "" {
			continue
		}
		if ack.Payload == nil {
			ack.Payload = json.RawMessage("null")
		}
		s.mu.Lock()
		s.acks[ack.EnvelopeID] = ack.Payload
		s.mu.Unlock()
	}
}

func (s *Server) dropConn(c *wsConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.conns {
		if x == c {
			s.conns = append(s.conns[:i], s.conns[i+1:]...)
			s.notify()
			return
		}
	}
}

// conn returns the newest live connection, waiting up to 10 s for one.
func (s *Server) conn(t testing.TB) *wsConn {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if n := len(s.conns); n > 0 {
			c := s.conns[n-1]
			s.mu.Unlock()
			return c
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("slackfake: no Socket Mode connection within %s", waitTimeout)
		}
	}
}

// Connected reports whether a Socket Mode client is connected.
func (s *Server) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns) > 0
}

// Send delivers an envelope of type typ ("events_api", "interactive" or
// "slash_commands") carrying payload to the newest Socket Mode connection,
// waiting up to 10 s for one, and returns its envelope_id. A url.Values
// payload (a slash command) is sent as a JSON object of strings, as Slack
// does. accepts_response_payload is true for interactive and slash_commands
// unless [WithAcceptsResponsePayload] says otherwise; [WithEnvelopeID] and
// [WithRetry] set the other envelope fields.
func (s *Server) Send(t testing.TB, typ string, payload any, opts ...Option) string {
	t.Helper()
	d := delivery(opts)
	if v, isForm := payload.(url.Values); isForm {
		m := make(map[string]string, len(v))
		for k := range v {
			m[k] = v.Get(k)
		}
		payload = m
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		t.Fatalf("slackfake: marshal payload: %v", err)
	}
	env := envelope{
		EnvelopeID:             d.envelopeID,
		Type:                   typ,
		Payload:                raw,
		AcceptsResponsePayload: typ == "interactive" || typ == "slash_commands",
		RetryAttempt:           d.retryNum,
		RetryReason:            d.retryReason,
	}
	if env.EnvelopeID == "" {
		env.EnvelopeID = newUUID()
	}
	if d.accepts != nil {
		env.AcceptsResponsePayload = *d.accepts
	}
	s.mu.Lock()
	s.envelopes[env.EnvelopeID] = env
	s.mu.Unlock()
	s.sendEnvelope(t, env)
	return env.EnvelopeID
}

func (s *Server) sendEnvelope(t testing.TB, env envelope) {
	t.Helper()
	if err := s.conn(t).writeJSON(env); err != nil {
		t.Fatalf("slackfake: send envelope %s: %v", env.EnvelopeID, err)
	}
}

// Redeliver sends envelope envelopeID again with retry_attempt increased by
// one and retry_reason "timeout", as Slack does when an ack is late.
func (s *Server) Redeliver(t testing.TB, envelopeID string) {
	t.Helper()
	s.mu.Lock()
	env, found := s.envelopes[envelopeID]
	if found {
		env.RetryAttempt++
		env.RetryReason = "timeout"
		s.envelopes[envelopeID] = env
	}
	s.mu.Unlock()
	if !found {
		t.Fatalf("slackfake: redeliver: no envelope %s was sent", envelopeID)
	}
	s.sendEnvelope(t, env)
}

// Acks returns the acks received, by envelope_id: the ack's payload, or JSON
// null when it had none.
func (s *Server) Acks() map[string]json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]json.RawMessage, len(s.acks))
	for k, v := range s.acks {
		out[k] = v
	}
	return out
}

// WaitAck waits up to 10 s for the client to ack envelopeID and returns the
// ack's payload (JSON null when it had none).
func (s *Server) WaitAck(t testing.TB, envelopeID string) json.RawMessage {
	t.Helper()
	var p json.RawMessage
	s.WaitFor(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		var acked bool
		p, acked = s.acks[envelopeID]
		return acked
	})
	return p
}

// Disconnect sends {"type":"disconnect","reason":"refresh_requested"} to
// every Socket Mode connection and closes it, as Slack does before it
// refreshes a connection; the client is expected to reconnect.
func (s *Server) Disconnect() {
	s.mu.Lock()
	conns := s.conns
	s.conns = nil
	s.notify()
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.writeJSON(map[string]any{
			"type":       "disconnect",
			"reason":     "refresh_requested",
			"debug_info": map[string]any{"host": "slackfake"},
		})
		_ = c.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		c.ws.Close()
	}
}
