package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEtcdSettings: --store=etcd needs the members' endpoints; a client
// certificate comes with its key and a user with a password; an etcd
// setting with the bbolt store would do nothing, so start-up refuses it.
// Errors name the setting as the operator gave it and never hold the
// password.
func TestEtcdSettings(t *testing.T) {
	dir := t.TempDir()
	pem := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(pem, []byte("not read by Validate"), 0o600); err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(dir, "etcd-password")
	if err := os.WriteFile(pwFile, []byte("pw-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	etcd := map[string]string{"SUPPORTBOT_STORE": "etcd", "SUPPORTBOT_ETCD_ENDPOINTS": "10.0.0.1:2379,https://etcd-2:2379"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string // "" = accepted
	}{
		{name: "bbolt by default"},
		{name: "etcd", env: etcd},
		{name: "etcd with TLS and auth", env: with(etcd, "SUPPORTBOT_ETCD_CA", pem, "SUPPORTBOT_ETCD_CERT", pem, "SUPPORTBOT_ETCD_KEY", pem,
			"SUPPORTBOT_ETCD_USERNAME", "bot", "SUPPORTBOT_ETCD_PASSWORD", "s3cret-pw")},
		{name: "etcd, flags", args: []string{"--store", "etcd", "--etcd-endpoints", "http://127.0.0.1:2379", "--etcd-prefix", "bots/eu/"}},
		{name: "password from a file", env: with(etcd, "SUPPORTBOT_ETCD_USERNAME", "bot", "SUPPORTBOT_ETCD_PASSWORD_FILE", pwFile)},
		{name: "unknown store", env: map[string]string{"SUPPORTBOT_STORE": "redis"}, want: "SUPPORTBOT_STORE=redis: want bbolt or etcd"},
		{name: "etcd without endpoints", env: map[string]string{"SUPPORTBOT_STORE": "etcd"}, want: "SUPPORTBOT_STORE=etcd needs the etcd members: set --etcd-endpoints (SUPPORTBOT_ETCD_ENDPOINTS)"},
		{name: "endpoint without a port", env: with(etcd, "SUPPORTBOT_ETCD_ENDPOINTS", "etcd-1:2379,etcd-2"), want: `"etcd-2" is not host:port`},
		{name: "endpoint of another scheme", args: []string{"--store", "etcd", "--etcd-endpoints", "unix://etcd:2379"}, want: `--etcd-endpoints=unix://etcd:2379: "unix://etcd:2379" is not host:port`},
		{name: "empty prefix", env: with(etcd, "SUPPORTBOT_ETCD_PREFIX", " "), want: `SUPPORTBOT_ETCD_PREFIX=" ": must not be empty`},
		{name: "cert without key", env: with(etcd, "SUPPORTBOT_ETCD_CERT", pem), want: "SUPPORTBOT_ETCD_CERT and --etcd-key: give the client certificate and its key together"},
		{name: "missing CA file", env: with(etcd, "SUPPORTBOT_ETCD_CA", filepath.Join(dir, "nope.pem")), want: "SUPPORTBOT_ETCD_CA=" + filepath.Join(dir, "nope.pem") + ": cannot read the file"},
		{name: "password without user", env: with(etcd, "SUPPORTBOT_ETCD_PASSWORD", "s3cret-pw"), want: "--etcd-username and SUPPORTBOT_ETCD_PASSWORD: give the etcd user name and its password together"},
		{name: "password file without user", env: with(etcd, "SUPPORTBOT_ETCD_PASSWORD_FILE", pwFile), want: "--etcd-username and SUPPORTBOT_ETCD_PASSWORD_FILE: give"},
		{name: "endpoints with bbolt", env: map[string]string{"SUPPORTBOT_ETCD_ENDPOINTS": "etcd-1:2379"}, want: "SUPPORTBOT_ETCD_ENDPOINTS: only the etcd store uses it and the store is bbolt"},
		{name: "password with bbolt", args: []string{"--store", "bbolt", "--etcd-username", "bot"}, env: map[string]string{"SUPPORTBOT_ETCD_PASSWORD": "s3cret-pw"}, want: "SUPPORTBOT_ETCD_PASSWORD: only the etcd store uses it"},
		{name: "prefix with bbolt", args: []string{"--etcd-prefix", "x/"}, want: "--etcd-prefix: only the etcd store uses it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := parseFlagsWant(t, tc.env, tc.args, tc.want)
			if err != nil && (strings.Contains(err.Error(), "s3cret-pw") || strings.Contains(err.Error(), "pw-from-file")) {
				t.Errorf("error holds the password: %q", err)
			}
		})
	}
}

// TestBackupWithEtcd: with the etcd store there is no file to copy; the
// backup command says how to back up the cluster instead.
func TestBackupWithEtcd(t *testing.T) {
	clearEnv(t)
	t.Setenv("SUPPORTBOT_STORE", "etcd")
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"backup", "--to", filepath.Join(t.TempDir(), "copy.db")}, strings.NewReader(""), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "etcdctl --endpoints=<one member> snapshot save") {
		t.Errorf("backup with SUPPORTBOT_STORE=etcd = %v, want it to point to etcdctl snapshot save", err)
	}
}
