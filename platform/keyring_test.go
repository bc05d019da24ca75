package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// fakeBackend is an in-memory go-keyring with switchable failures.
type fakeBackend struct {
	mu    sync.Mutex
	items map[string]map[string]string // service → user → secret
	// fail, when set, returns the error for an operation ("set", "get",
	// "delete", "deleteall") on a user ("" for deleteall).
	fail  func(op, user string) error
	block chan struct{} // when non-nil every call waits on it
	calls []string
}

func newFakeBackend() *fakeBackend { return &fakeBackend{items: map[string]map[string]string{}} }

func (f *fakeBackend) enter(op, user string) error {
	if f.block != nil {
		<-f.block
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, op+" "+user)
	if f.fail != nil {
		return f.fail(op, user)
	}
	return nil
}

func (f *fakeBackend) Set(service, user, pass string) error {
	if err := f.enter("set", user); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.items[service] == nil {
		f.items[service] = map[string]string{}
	}
	f.items[service][user] = pass
	return nil
}

func (f *fakeBackend) Get(service, user string) (string, error) {
	if err := f.enter("get", user); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.items[service][user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (f *fakeBackend) Delete(service, user string) error {
	if err := f.enter("delete", user); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.items[service][user]; !ok {
		return keyring.ErrNotFound
	}
	delete(f.items[service], user)
	return nil
}

func (f *fakeBackend) DeleteAll(service string) error {
	if err := f.enter("deleteall", ""); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.items, service)
	return nil
}

func (f *fakeBackend) has(service, user string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.items[service][user]
	return ok
}

func (f *fakeBackend) count(service string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.items[service])
}

// Errors go-keyring returns when no Secret Service works (STACK.md).
var unavailableCauses = []error{
	errors.New(`exec: "dbus-launch": executable file not found in $PATH`),
	errors.New("dial unix /run/user/1000/bus: connect: no such file or directory"),
	errors.New("dbus: invalid bus address (no transport)"),
	//lint:ignore ST1005 verbatim D-Bus error text
	errors.New("The name org.freedesktop.secrets was not provided by any .service files"),
	errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"),
	keyring.ErrUnsupportedPlatform,
}

func indexOf(t *testing.T, p Prefs) []string {
	t.Helper()
	raw := p.String(PrefSecretIndex)
	if raw == "" {
		return nil
	}
	var keys []string
	if err := json.Unmarshal([]byte(raw), &keys); err != nil {
		t.Fatalf("index %q: %v", raw, err)
	}
	return keys
}

const svc = "io.sessionguard.test"

func TestKeyringErrorsAreUnavailable(t *testing.T) {
	for _, cause := range unavailableCauses {
		t.Run(cause.Error(), func(t *testing.T) {
			be := newFakeBackend()
			prefs := NewMemoryPrefs()
			k := newKeyring(svc, prefs, be, time.Second)
			mustSet(t, k, "existing", "v")

			be.fail = func(string, string) error { return cause }
			ops := map[string]error{
				"set":    k.Set("new", "v"),
				"delete": k.Delete("existing"),
			}
			_, ops["get"] = k.Get("existing")
			for op, err := range ops {
				if !errors.Is(err, ErrUnavailable) || !errors.Is(err, cause) {
					t.Errorf("%s: error %v does not wrap ErrUnavailable and the cause", op, err)
				}
				if err != nil && !strings.Contains(err.Error(), cause.Error()) {
					t.Errorf("%s: error %q lost the cause text", op, err)
				}
			}
			// The index changed only after successful keyring calls.
			if got := indexOf(t, prefs); !slices.Equal(got, []string{"existing"}) {
				t.Errorf("index after failures = %q, want [existing]", got)
			}
			if err := k.DeleteAll(); !errors.Is(err, ErrUnavailable) {
				t.Errorf("DeleteAll = %v, want ErrUnavailable", err)
			}
			if got := indexOf(t, prefs); !slices.Equal(got, []string{"existing"}) {
				t.Errorf("index after failed DeleteAll = %q, want [existing]", got)
			}
		})
	}
}

func TestKeyringIndexOrder(t *testing.T) {
	// Set writes the index after the keyring; Delete removes from it after.
	be := newFakeBackend()
	prefs := NewMemoryPrefs()
	k := newKeyring(svc, prefs, be, time.Second)
	var seenIndexAtSet, seenIndexAtDelete []string
	be.fail = func(op, user string) error {
		switch op {
		case "set":
			seenIndexAtSet = indexOf(t, prefs)
		case "delete":
			seenIndexAtDelete = indexOf(t, prefs)
		}
		return nil
	}
	mustSet(t, k, "a", "1")
	if len(seenIndexAtSet) != 0 {
		t.Errorf("index already had %q while the keyring Set ran", seenIndexAtSet)
	}
	if got := indexOf(t, prefs); !slices.Equal(got, []string{"a"}) {
		t.Errorf("index after Set = %q", got)
	}
	if err := k.Delete("a"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seenIndexAtDelete, []string{"a"}) {
		t.Errorf("index while keyring Delete ran = %q, want [a]", seenIndexAtDelete)
	}
	if raw := prefs.String(PrefSecretIndex); raw != "" {
		t.Errorf("index after deleting the last key = %q, want removed", raw)
	}
}

func TestKeyringDeleteAll(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(be *fakeBackend, k *Keyring, prefs Prefs)
		fail      func(op, user string) error
		wantErr   error
		wantIndex []string // nil: index removed
		wantItems int
	}{
		{
			name: "indexed items",
			setup: func(be *fakeBackend, k *Keyring, _ Prefs) {
				_ = k.Set("a", "1")
				_ = k.Set("b", "2")
			},
		},
		{
			name: "index entry whose item someone else deleted",
			setup: func(be *fakeBackend, k *Keyring, _ Prefs) {
				_ = k.Set("a", "1")
				_ = k.Set("b", "2")
				_ = be.Delete(svc, "a")
			},
		},
		{
			name: "orphan item missing from the index is swept",
			setup: func(be *fakeBackend, k *Keyring, _ Prefs) {
				_ = k.Set("a", "1")
				_ = be.Set(svc, "orphan", "x")
			},
		},
		{
			name: "go-keyring DeleteAll unavailable: the index still finds every item",
			setup: func(be *fakeBackend, k *Keyring, _ Prefs) {
				_ = k.Set("a", "1")
				_ = k.Set("b", "2")
			},
			fail: func(op, _ string) error {
				if op == "deleteall" {
					return keyring.ErrUnsupportedPlatform
				}
				return nil
			},
		},
		{
			name: "one item cannot be deleted: it stays in the index",
			setup: func(be *fakeBackend, k *Keyring, _ Prefs) {
				_ = k.Set("a", "1")
				_ = k.Set("b", "2")
				_ = k.Set("c", "3")
			},
			fail: func(op, user string) error {
				if user == "b" || op == "deleteall" {
					return errors.New("org.freedesktop.DBus.Error.NoReply")
				}
				return nil
			},
			wantErr:   ErrUnavailable,
			wantIndex: []string{"b"},
			wantItems: 1,
		},
		{
			name: "corrupt index: the sweep resets",
			setup: func(be *fakeBackend, k *Keyring, prefs Prefs) {
				_ = k.Set("a", "1")
				prefs.SetString(PrefSecretIndex, "{not json")
			},
		},
		{
			name: "corrupt index and no sweep: error, nothing claimed",
			setup: func(be *fakeBackend, k *Keyring, prefs Prefs) {
				_ = k.Set("a", "1")
				prefs.SetString(PrefSecretIndex, "{not json")
			},
			fail: func(op, _ string) error {
				if op == "deleteall" {
					return keyring.ErrUnsupportedPlatform
				}
				return nil
			},
			wantErr:   ErrCorrupt,
			wantIndex: []string{"corrupt"},
			wantItems: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			be := newFakeBackend()
			prefs := NewMemoryPrefs()
			k := newKeyring(svc, prefs, be, time.Second)
			tc.setup(be, k, prefs)
			be.fail = tc.fail
			err := k.DeleteAll()
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("DeleteAll = %v, want %v", err, tc.wantErr)
			}
			switch {
			case slices.Equal(tc.wantIndex, []string{"corrupt"}):
				if prefs.String(PrefSecretIndex) == "" {
					t.Error("corrupt index was removed although the items may remain")
				}
			case tc.wantIndex == nil:
				if raw := prefs.String(PrefSecretIndex); raw != "" {
					t.Errorf("index = %q, want removed", raw)
				}
			default:
				if got := indexOf(t, prefs); !slices.Equal(got, tc.wantIndex) {
					t.Errorf("index = %q, want %q", got, tc.wantIndex)
				}
			}
			if n := be.count(svc); n != tc.wantItems {
				t.Errorf("%d items left in the keyring, want %d", n, tc.wantItems)
			}
		})
	}
}

func TestKeyringCorruptIndex(t *testing.T) {
	be := newFakeBackend()
	prefs := NewMemoryPrefs()
	prefs.SetString(PrefSecretIndex, `["a",`)
	k := newKeyring(svc, prefs, be, time.Second)
	if _, err := k.Keys(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Keys = %v, want ErrCorrupt", err)
	}
	if err := k.Set("b", "2"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Set = %v, want ErrCorrupt", err)
	}
	if be.has(svc, "b") {
		t.Error("Set wrote an item the index cannot record")
	}
	if err := k.DeleteAll(); err != nil {
		t.Fatalf("DeleteAll = %v", err)
	}
	mustSet(t, k, "c", "3")
	mustKeys(t, k, "c")
}

func TestKeyringValueTooBigIsNotUnavailable(t *testing.T) {
	be := newFakeBackend()
	be.fail = func(op, _ string) error {
		if op == "set" {
			return keyring.ErrSetDataTooBig
		}
		return nil
	}
	k := newKeyring(svc, NewMemoryPrefs(), be, time.Second)
	err := k.Set("k", strings.Repeat("x", 5000))
	if !errors.Is(err, keyring.ErrSetDataTooBig) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("Set = %v, want ErrSetDataTooBig and not ErrUnavailable", err)
	}
	mustKeys(t, k)
}

func TestKeyringTimeout(t *testing.T) {
	be := newFakeBackend()
	be.block = make(chan struct{})
	defer close(be.block)
	k := newKeyring(svc, NewMemoryPrefs(), be, 50*time.Millisecond)
	start := time.Now()
	_, err := k.Get("k")
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, errTimeout) {
		t.Fatalf("Get on a hung keyring = %v, want ErrUnavailable (timeout)", err)
	}
	if err := k.Set("k", "v"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Set on a hung keyring = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("timeouts took %v", d)
	}
	mustKeys(t, k)
}

func TestProbeKeyringLogic(t *testing.T) {
	tests := []struct {
		name    string
		be      func() *fakeBackend
		wantErr string // "" for success
	}{
		{"works", newFakeBackend, ""},
		{"set fails", func() *fakeBackend {
			be := newFakeBackend()
			be.fail = func(op, _ string) error {
				if op == "set" {
					return unavailableCauses[1]
				}
				return nil
			}
			return be
		}, "no such file"},
		{"item not kept", func() *fakeBackend {
			be := newFakeBackend()
			be.fail = func(op, u string) error {
				if op == "get" {
					return keyring.ErrNotFound
				}
				return nil
			}
			return be
		}, "get"},
		{"delete fails", func() *fakeBackend {
			be := newFakeBackend()
			be.fail = func(op, _ string) error {
				if op == "delete" {
					return unavailableCauses[4]
				}
				return nil
			}
			return be
		}, "failed to unlock"},
		{"hangs", func() *fakeBackend {
			be := newFakeBackend()
			be.block = make(chan struct{})
			t.Cleanup(func() { close(be.block) })
			return be
		}, "timed out"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			be := tc.be()
			start := time.Now()
			err := probeKeyring(svc, be, 100*time.Millisecond)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("probe took %v", d)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("probe = %v", err)
				}
				if be.count(svc) != 0 {
					t.Error("probe left its item behind")
				}
				return
			}
			if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("probe = %v, want ErrUnavailable mentioning %q", err, tc.wantErr)
			}
		})
	}
}

// --- Real Secret Service (scripts/with-keyring.sh) ---

func TestRealKeyringProbeAndOpen(t *testing.T) {
	service := realKeyringService(t)
	if err := ProbeKeyring(service); err != nil {
		t.Fatalf("ProbeKeyring = %v", err)
	}
	if err := keyring.DeleteAll(service); err != nil {
		t.Fatalf("go-keyring DeleteAll: %v", err)
	}
	if out, _ := secretToolSearch(t, service); strings.Contains(out, "attribute.username") {
		t.Errorf("the probe left items behind:\n%s", out)
	}
	s, err := OpenSecretStore(t.TempDir(), NewMemoryPrefs())
	if err != nil {
		t.Fatalf("OpenSecretStore = %v", err)
	}
	if _, ok := s.(*Keyring); !ok {
		t.Fatalf("OpenSecretStore returned %T, want *Keyring", s)
	}
}

func TestRealKeyringItems(t *testing.T) {
	service := realKeyringService(t)
	prefs := NewMemoryPrefs()
	k := NewKeyring(service, prefs)
	items := map[string]string{
		"refresh:acc_1":            "rt-" + strings.Repeat("z", 64),
		"remembered:ana@ex.com":    "rc-✓-秘密",
		"refresh:acc_2 with space": strings.Repeat("é", 2048),
	}
	for key, v := range items {
		mustSet(t, k, key, v)
	}

	// Written: visible to go-keyring directly and to secret-tool.
	for key, v := range items {
		got, err := keyring.Get(service, key)
		if err != nil || got != v {
			t.Errorf("go-keyring Get(%q) = %q, %v", key, short(got), err)
		}
	}
	out, checked := secretToolSearch(t, service)
	for key := range items {
		if checked && !strings.Contains(out, "attribute.username = "+key) {
			t.Errorf("secret-tool search service %s does not list %q:\n%s", service, key, out)
		}
	}
	if got := indexOf(t, prefs); len(got) != len(items) {
		t.Errorf("index = %q", got)
	}

	// Read back by a new Keyring on the same preferences (an app restart).
	k2 := NewKeyring(service, prefs)
	for key, v := range items {
		if got, err := k2.Get(key); err != nil || got != v {
			t.Errorf("after restart Get(%q) = %q, %v", key, short(got), err)
		}
	}

	// Someone else deletes one item; an orphan appears outside the index.
	if err := keyring.Delete(service, "refresh:acc_1"); err != nil {
		t.Fatal(err)
	}
	if err := keyring.Set(service, "orphan", "x"); err != nil {
		t.Fatal(err)
	}
	if err := k2.DeleteAll(); err != nil {
		t.Fatalf("DeleteAll = %v", err)
	}
	for _, key := range []string{"refresh:acc_1", "remembered:ana@ex.com", "refresh:acc_2 with space", "orphan"} {
		if _, err := keyring.Get(service, key); !errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("after DeleteAll go-keyring Get(%q) error = %v, want ErrNotFound", key, err)
		}
	}
	if out, _ := secretToolSearch(t, service); strings.Contains(out, "attribute.username") {
		t.Errorf("secret-tool still finds items after DeleteAll:\n%s", out)
	}
	if raw := prefs.String(PrefSecretIndex); raw != "" {
		t.Errorf("index after DeleteAll = %q, want removed", raw)
	}
}

// TestRealKeyringStaleIndexOnly: every index entry was deleted by someone
// else, and go-keyring's DeleteAll finds nothing.
func TestRealKeyringStaleIndexOnly(t *testing.T) {
	service := realKeyringService(t)
	prefs := NewMemoryPrefs()
	k := NewKeyring(service, prefs)
	mustSet(t, k, "a", "1")
	mustSet(t, k, "b", "2")
	if err := keyring.DeleteAll(service); err != nil {
		t.Fatal(err)
	}
	mustKeys(t, k, "a", "b")
	if err := k.Delete("a"); err != nil {
		t.Fatalf("Delete of an index-only key = %v", err)
	}
	mustKeys(t, k, "b")
	if err := k.DeleteAll(); err != nil {
		t.Fatalf("DeleteAll = %v", err)
	}
	mustKeys(t, k)
}

// secretToolSearch returns `secret-tool search --all service S` output, the
// lookup a person would use; checked is false when secret-tool (optional, from
// libsecret-tools) is not installed.
func secretToolSearch(t *testing.T, service string) (out string, checked bool) {
	t.Helper()
	path, err := exec.LookPath("secret-tool")
	if err != nil {
		t.Log("secret-tool not installed; skipping the secret-tool cross-check")
		return "", false
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, "search", "--all", "service", service)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run() // exits 1 when nothing matches
	// secret-tool prints attributes on stderr or stdout depending on version.
	return stdout.String() + stderr.String(), true
}

// --- No Secret Service at all ---

const probeChildEnv = "SG_PROBE_CHILD"

// TestProbeKeyringNoBus re-runs this test binary with D-Bus environments in
// which no Secret Service can work, and checks ProbeKeyring and
// OpenSecretStore report ErrUnavailable promptly. PATH points at an empty
// directory, so go-keyring cannot start dbus-launch (no daemons spawned).
func TestProbeKeyringNoBus(t *testing.T) {
	if os.Getenv(probeChildEnv) == "1" {
		probeChild(t)
		return
	}
	empty := t.TempDir()
	tests := []struct {
		name    string
		env     []string
		wrapper []string // command to run the child under
	}{
		{name: "nonexistent socket", env: []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(empty, "no-such-bus")}},
		{name: "invalid address", env: []string{"DBUS_SESSION_BUS_ADDRESS=garbage"}},
		{name: "no address, no runtime bus, no dbus-launch", env: []string{"XDG_RUNTIME_DIR=" + empty}},
	}
	if drs, err := exec.LookPath("dbus-run-session"); err == nil {
		if _, err := exec.LookPath("dbus-daemon"); err == nil {
			// A session bus with no service files: org.freedesktop.secrets
			// cannot be activated (the common "desktop without a keyring").
			conf := filepath.Join(t.TempDir(), "session.conf")
			if err := os.WriteFile(conf, []byte(bareBusConfig(t.TempDir())), 0o600); err != nil {
				t.Fatal(err)
			}
			tests = append(tests, struct {
				name    string
				env     []string
				wrapper []string
			}{name: "bus without a Secret Service", wrapper: []string{drs, "--config-file=" + conf, "--"}})
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			args := append(slices.Clone(tc.wrapper), os.Args[0], "-test.run=^TestProbeKeyringNoBus$", "-test.v", "-test.count=1")
			cmd := exec.CommandContext(ctx, args[0], args[1:]...)
			// GORACE: a -race child would otherwise sleep 1 s at exit.
			cmd.Env = append(childEnv(), probeChildEnv+"=1", "PATH="+empty, "GORACE=atexit_sleep_ms=0")
			cmd.Env = append(cmd.Env, tc.env...)
			if tc.wrapper != nil {
				// dbus-run-session itself must be found; it finds dbus-daemon
				// from its own configuration, not PATH, on Debian.
				cmd.Env = append(cmd.Env, "PATH="+os.Getenv("PATH"))
			}
			out, err := cmd.CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("child hung:\n%s", out)
			}
			if err != nil {
				t.Fatalf("child failed: %v\n%s", err, out)
			}
			line := ""
			for l := range strings.Lines(string(out)) {
				if strings.Contains(l, "PROBE-RESULT:") {
					line = strings.TrimSpace(l)
				}
			}
			if line == "" {
				t.Fatalf("child did not report a result:\n%s", out)
			}
			t.Log(line)
		})
	}
}

// childEnv is the environment without anything that points at a bus.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "DBUS_SESSION_BUS_ADDRESS", "SESSIONGUARD_KEYRING_TEST", "XDG_RUNTIME_DIR", "PATH", "DISPLAY", "WAYLAND_DISPLAY":
			continue
		}
		env = append(env, kv)
	}
	return env
}

func probeChild(t *testing.T) {
	start := time.Now()
	err := ProbeKeyring(KeyringService + ".test.nobus")
	elapsed := time.Since(start)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("ProbeKeyring = %v, want ErrUnavailable", err)
	}
	if elapsed > probeTimeout+time.Second {
		t.Fatalf("ProbeKeyring took %v", elapsed)
	}
	if strings.TrimSpace(strings.TrimPrefix(err.Error(), ErrUnavailable.Error())) == "" {
		t.Fatalf("ProbeKeyring error %q carries no cause", err)
	}
	s, openErr := OpenSecretStore(t.TempDir(), NewMemoryPrefs())
	if !errors.Is(openErr, ErrUnavailable) || s != nil {
		t.Fatalf("OpenSecretStore = %v, %v; want nil, ErrUnavailable", s, openErr)
	}
	fmt.Printf("PROBE-RESULT: unavailable after %v: %v\n", elapsed.Round(time.Millisecond), err)
}

func bareBusConfig(dir string) string {
	return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=` + dir + `</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`
}
