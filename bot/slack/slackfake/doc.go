// Package slackfake is a local fake of Slack for tests: an httptest server
// that speaks the Slack Web API under /api/, a Socket Mode WebSocket, and
// helpers that deliver signed Events API, interactivity and slash-command
// requests to an app's HTTP endpoint.
//
// It is written from Slack's documented wire formats (api.slack.com method
// pages, "Socket Mode implementation", "Verifying requests from Slack"), not
// from what any one client sends, so that it can check a Slack adapter built
// on slack-go. The package itself imports only the standard library and
// gorilla/websocket; its own tests use slack-go to prove the two agree.
//
// Web API: point the client at [Server.APIURL] (slack.OptionAPIURL). Bodies
// may be application/x-www-form-urlencoded (token in the "token" field or an
// Authorization header) or application/json (Authorization: Bearer). Bot
// methods need an xoxb- token, apps.connections.open an xapp- token.
// Implemented: chat.postMessage, chat.update, chat.postEphemeral, views.open,
// views.update, users.info, auth.test, conversations.history,
// conversations.replies and apps.connections.open; anything else answers
// unknown_method. Every call is recorded ([Server.Calls]); faults are
// injected per method with [Server.RateLimit], [Server.Fail] and
// [Server.FailAfterApply].
//
// Message timestamps are unique and strictly increasing across the server
// ("1700000000.000100", "1700000000.000200", …) and never whole seconds, so a
// thread reply never collides with its parent.
//
// Socket Mode: apps.connections.open returns a single-use ws:// URL. On
// connect the fake sends a hello, then pings every 5 s. [Server.Send] delivers
// an envelope to the newest connection, [Server.Acks] and [Server.WaitAck]
// expose what the client acknowledged, [Server.Redeliver] replays an envelope
// as Slack does after an ack timeout, and [Server.Disconnect] asks the client
// to reconnect.
//
// Nothing here sleeps for a fixed time: tests wait with [Server.WaitFor] and
// [Server.WaitAck], which poll for up to 10 s and then fail the test.
package slackfake
