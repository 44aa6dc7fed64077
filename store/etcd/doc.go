// Package etcd keeps supportbot's conversations in an etcd cluster, so that
// replicas can share them and a standby can take over from a failed active
// replica without losing or doubling an update. *Store implements bot.Store
// with the semantics of the bbolt store (package store) and encodes sessions
// with the same store.Codec; a conformance suite (store/storetest) runs
// against both.
//
// It imports bot, store, the etcd client and the standard library. Besides
// it, only the main package uses the etcd client (to dial the cluster and
// run the leader election), and only etcdtest the etcd server.
//
// Keys, under Options.Prefix ("supportbot/"):
//
//	s/<session key>                          JSON of bot.Session (store.Codec)
//	h/<channel>/<update id>                  handled marker: decimal Unix seconds
//	                                         of its commit, on a lease
//	o/<channel>/<envelope key>/<token>-<ix>  JSON of bot.Envelope
//	kv/<space>/<key>                         KV values
//	meta/key-fingerprint                     store.KeyFingerprint of the token key
//
// Each Commit is one etcd Txn. It compares the session's ModRevision with
// the one Load saw (Session.Rev), that the handled marker is absent, and,
// when Options.Fence is set, that this replica still holds its leadership
// key; then it puts the session, the marker and the envelopes. A failed
// compare is told apart as ErrFenced, ErrDuplicate or ErrConflict, in that
// order.
//
// Envelope IDs need no counter key: an envelope's ID is its key's create
// revision shifted left by 8 bits, or'd with its place in its Commit. etcd's
// revision increases with every write of the cluster, so IDs increase in
// commit order across chats and replicas.
//
// Handled markers count for HandledTTL after their commit, by the stamp they
// hold and the Store's clock, exactly like the bbolt store; etcd deletes them
// later through leases, one per short time bucket (an hour at the default
// TTL), so that no single lease holds so many keys that its expiry stalls
// the cluster.
package etcd
