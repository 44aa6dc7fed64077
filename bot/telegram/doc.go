// Package telegram adapts the Telegram Bot API to the conversation engine in
// package bot; it is the only importer of github.com/go-telegram/bot, and it
// imports bot and that SDK only (never store, flows or portal).
//
// A Channel receives updates by long polling (the default) or by webhook,
// translates those from private chats (messages and their edits, a
// photo's caption carried for the engine's checks, button presses) into
// bot.Inbound, runs them through Engine.Handle — one chat strictly in
// order, each chat with updates queued on a goroutine of its own, so a slow
// portal call holds up only its chat; the queues are bounded (the webhook
// answers 503 beyond them) — and delivers the
// committed replies from the outbox.
//
// Delivery is at least once. In polling mode the Channel owns the getUpdates
// offset and confirms an update only after Handle committed it and every
// update before it; it goes on fetching while updates are in flight, so a
// hung call holds up only its chat (and the confirmed offset); in webhook
// mode its own http.Handler answers 200 only after the commit. The engine
// drops redelivered update ids.
//
// When Run's context ends, the Channel drains: it takes no new updates (the
// webhook answers 503 so Telegram redelivers them; polling asks for no
// more), finishes those in flight, confirms the committed ones, and sends
// pending replies for up to Options.FlushTimeout.
//
// The outbox sender renders bot.Reply as plain text (no parse mode, so
// customer text cannot inject formatting) with an inline keyboard, splits
// texts over Telegram's 4096 UTF-16 units, keeps to Telegram's rate limits
// (about one message a second per chat with a burst of 3, 30 a second in
// all; Options), pauses all sending on 429 until retry_after has passed and
// then lets one send probe before the others follow, deactivates a
// conversation whose customer blocked the bot (403), retries 5xx and
// network errors with capped exponential backoff and jitter for as long as
// it runs, and marks each envelope delivered once sent. Of a chat's screens
// (replies with buttons) queued and not yet sent, only the newest is sent:
// the older ones are marked delivered unsent (Observer.Superseded); replies
// without buttons and deletions are always sent. A button press is answered
// as soon as its update arrives. At start Run queues
// all the engine's pending envelopes, page by page in ID order, before it
// takes updates. What it cannot send by the end of the shutdown flush stays
// pending in the engine's outbox for the next start.
package telegram
