package etcd

import (
	"context"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// KV is a durable key-value space of its own, for an adapter's records (a
// ticket's Slack thread), stored under Prefix+"kv/"+name+"/".
type KV struct {
	s      *Store
	name   string
	prefix string
}

// KV returns the space called name.
func (s *Store) KV(name string) *KV {
	return &KV{s: s, name: name, prefix: s.prefix + "kv/" + name + "/"}
}

// Get returns the value stored under key; ok is false if there is none.
func (kv *KV) Get(ctx context.Context, key string) (val []byte, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	resp, err := kv.s.cli.Get(ctx, kv.prefix+key)
	if err != nil {
		return nil, false, kv.s.fail(ctx, err, "read %s", kv.name)
	}
	if len(resp.Kvs) == 0 {
		return nil, false, nil
	}
	return resp.Kvs[0].Value, true, nil
}

// Put stores val under key. It fails with an error wrapping bot.ErrFenced
// when this replica lost its leadership.
func (kv *KV) Put(ctx context.Context, key string, val []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return kv.s.fencedTxn(ctx, []clientv3.Op{clientv3.OpPut(kv.prefix+key, string(val))}, "write "+kv.name)
}

// Delete removes key; a missing key is not an error. It fails with an error
// wrapping bot.ErrFenced when this replica lost its leadership.
func (kv *KV) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return kv.s.fencedTxn(ctx, []clientv3.Op{clientv3.OpDelete(kv.prefix + key)}, "delete from "+kv.name)
}
