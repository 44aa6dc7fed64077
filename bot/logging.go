package bot

import (
	"log/slog"
	"sync/atomic"
)

// UpdateLogger returns log with the attributes that tie every line logged
// while one update is handled together: chat, the conversation key, and
// update, the platform's id of the update (left out when zero). The engine
// and the channel adapters log an update's handling through it, so its
// lines can be found by either.
//
// Never log what a customer typed through it, or through any logger: no
// message text, password, token, card number or email.
func UpdateLogger(log *slog.Logger, key string, update int64) *slog.Logger {
	if update == 0 {
		return log.With("chat", key)
	}
	return log.With("chat", key, "update", update)
}

// requests numbers the updates handled without a platform update id (the
// terminal chat's lines), so their log lines can be told apart too.
var requests atomic.Uint64

// updateLogger is UpdateLogger for in; an update without an id gets a
// request number, req, instead.
func (e *Engine) updateLogger(in Inbound) *slog.Logger {
	if in.UpdateID == 0 {
		return e.log.With("chat", in.Key, "req", requests.Add(1))
	}
	return UpdateLogger(e.log, in.Key, in.UpdateID)
}
