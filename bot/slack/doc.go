// Package slack is the staff side of supportbot: it posts each support
// ticket into the department's Slack channel as a Block Kit message whose
// thread mirrors the customer's conversation, and turns staff actions
// (Claim, Reply, Close, ">>" thread messages, /customer) into portal calls
// and engine events for the customer. It is the only importer of slack-go.
//
// Outbound: the customer's flows commit envelopes addressed to
// "slack:<ticket>"; the adapter reads them with Engine.Pending, posts them
// in ID order per ticket and marks each Delivered only once its Slack effect
// is done. Every message carries the envelope's id as metadata, so after an
// ambiguous failure (a 5xx, a timeout) the adapter looks for it in the
// channel or thread instead of posting twice.
//
// Inbound: Socket Mode (Config.AppToken) or signed HTTP requests
// (Config.SigningSecret and Config.Listen). Requests are acknowledged within
// Slack's 3 s: the portal call and the engine's commit run before the ack,
// slower Slack calls (chat.update, thread notes, ephemeral refusals) after
// it. A durable "seen" set makes a Slack retry or Socket Mode redelivery
// change nothing.
package slack
