// Package store persists supportbot's conversations in one bbolt file: the
// sessions, the update ids already handled on each channel, and the outbox of
// replies waiting for delivery. *DB implements bot.Store.
//
// It is the only package of the module that imports go.etcd.io/bbolt; it
// imports bot, bbolt and the standard library, and only the commands
// (cmd/supportbot, cmd/supportbot-load) import it.
//
// The file holds three buckets:
//
//	sessions  "channel:chatID" → JSON of bot.Session, "v" = bot.SchemaVersion;
//	          Token holds "enc:v1:" + base64(nonce ‖ AES-256-GCM ciphertext)
//	handled   one nested bucket per channel (the key before the first ':'):
//	          8-byte big-endian update id → 8-byte big-endian Unix seconds
//	          of its commit; an id counts as handled for Options.HandledTTL
//	          (7 days) after its commit, whatever its value, and
//	          DB.ExpireHandled deletes the older ones
//	outbox    8-byte big-endian envelope ID (the bucket's sequence) → JSON of
//	          bot.Envelope
//
// Sessions are encoded by Codec, which store/etcd shares, so both stores
// keep them alike.
//
// Every method runs one short transaction with no network I/O inside it and
// copies what it reads out before the transaction ends. Only one DB may have
// the file open at a time; another Open fails with ErrLocked.
//
// Backups: DB.Backup writes a consistent copy of the file from one read
// transaction while the bot keeps committing; Copy does the same for a file
// no process has open, and Verify checks a copy.
package store
