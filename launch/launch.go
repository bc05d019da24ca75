// Package launch assembles a running Sessionguard: the embedded sessiond
// (or a remote server), the API client, the secret store and the app core.
package launch

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"sessionguard/api"
	"sessionguard/app"
	"sessionguard/client"
	"sessionguard/platform"
)

// AppID is the app's identifier (FyneApp.toml, keyring service, data dir).
const AppID = "io.sessionguard.app"

// Version is the app's version; FyneApp.toml carries the same.
const Version = "1.0.0"

// PrefServer holds the chosen server address; "local" means this device's
// own embedded server.
const PrefServer = "server.url"

const localServer = app.ServerLocal

// Prefs is the preferences store (fyne.Preferences fits).
type Prefs = platform.Prefs

// Config says how to launch.
type Config struct {
	// DataDir holds the embedded server's database and secrets key, and
	// the app's cache. The web build has none ("").
	DataDir string
	// Prefs are the app's preferences.
	Prefs Prefs
	// Server, when set, overrides the saved choice ("local" or a URL).
	Server string
	// Version is the app version reported as the device's app_version.
	Version string
	// Secrets overrides the platform's secret store (tests).
	Secrets app.SecretStore
}

// Launcher owns the running pieces and can switch servers. Its methods
// may be called from any goroutine.
type Launcher struct {
	cfg Config

	mu     sync.Mutex
	local  *local
	core   *app.App // Use's
	api    *client.Client
	server string // the URL in use (Use)
	// The secret store all cores share (secrets).
	store    app.SecretStore
	storeErr error
}

// New prepares a launcher; call Use to start a core.
func New(cfg Config) (*Launcher, error) {
	if err := prepareDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	return &Launcher{cfg: cfg}, nil
}

// FirstRun reports whether no server has been chosen yet.
func (l *Launcher) FirstRun() bool {
	return l.cfg.Server == "" && l.cfg.Prefs.String(PrefServer) == ""
}

// Saved is the server to use now: the override, the saved choice, or this
// device's own.
func (l *Launcher) Saved() string {
	if l.cfg.Server != "" {
		return l.cfg.Server
	}
	if v := l.cfg.Prefs.String(PrefServer); v != "" {
		return v
	}
	return localServer
}

// checkTimeout bounds Check's wait for an answer.
const checkTimeout = 10 * time.Second

// Check tells whether a Sessionguard server answers at address before it
// is chosen, and returns the address as the app will use it. Its errors
// match client.ErrInvalidURL or client.ErrInsecureServer (a
// *client.AddressError, which may suggest the address meant: "https://"
// in front of a bare host name), client.ErrOffline (nothing answers
// there; also client.ErrNoNetwork without a network), or
// client.ErrNotSessiond (something answers, but not sessiond);
// app.DescribeServerCheck puts them in words.
func (l *Launcher) Check(ctx context.Context, address string) (string, error) {
	c, err := client.New(address)
	if err != nil {
		return "", err
	}
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if _, err := c.CheckServer(ctx); err != nil {
		return "", err
	}
	return c.BaseURL(), nil
}

// Choose switches to the server the person chose: "" (or "local") for
// this device's own, else an address, which must pass Check first. A
// refused address changes nothing.
func (l *Launcher) Choose(ctx context.Context, address string) (*app.App, error) {
	if address == "" || address == localServer {
		return l.Use(ctx, localServer)
	}
	url, err := l.Check(ctx, address)
	if err != nil {
		return nil, err
	}
	return l.Use(ctx, url)
}

// Use builds a core for serverURL ("" or "local": the embedded one,
// started on first use; else a URL), replacing any previous one, and
// remembers the choice. The address is not checked (Choose does): the
// saved server is used as it is at start, shown offline when it does not
// answer, so that Sessionguard opens with what it last knew. It is the
// one-account way; Accounts (OpenAccounts) keeps several cores side by
// side.
func (l *Launcher) Use(ctx context.Context, serverURL string) (*app.App, error) {
	if serverURL == "" {
		serverURL = localServer
	}
	core, c, url, err := l.open(serverURL, "")
	if err != nil {
		return nil, err
	}
	l.Close(ctx, false)
	l.cfg.Prefs.SetString(PrefServer, serverURL)
	l.mu.Lock()
	l.api, l.server, l.core = c, url, core
	l.mu.Unlock()
	return core, nil
}

// Open builds a core for server ("local" or a URL, as Use takes it) whose
// per-account state is kept under slot, beside any other: what
// app.AccountsConfig.Open asks for. Choosing a server for the next
// sign-in also makes it the saved choice.
func (l *Launcher) Open(server, slot string) (*app.App, error) {
	core, _, _, err := l.open(server, slot)
	if err != nil {
		return nil, err
	}
	l.cfg.Prefs.SetString(PrefServer, server)
	return core, nil
}

// OpenAccounts returns the accounts of this device, with their cores made
// by Open.
func (l *Launcher) OpenAccounts() *app.Accounts {
	secrets, _ := l.secrets()
	return app.NewAccounts(app.AccountsConfig{
		Open:     l.Open,
		Prefs:    l.cfg.Prefs,
		Secrets:  secrets,
		Server:   l.Saved(),
		CacheDir: l.cacheDir(),
	})
}

// secrets is the one secret store every core shares (its index of items
// lives in the preferences, so two stores would lose each other's items),
// opened on first use; problem says why there is none.
func (l *Launcher) secrets() (app.SecretStore, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.store == nil && l.storeErr == nil {
		if l.cfg.Secrets != nil {
			l.store = l.cfg.Secrets
		} else {
			l.store, l.storeErr = platform.OpenSecretStore(l.cfg.DataDir, l.cfg.Prefs)
		}
	}
	return l.store, l.storeErr
}

// cacheDir holds the cores' caches; "" (no cache) without a data
// directory, as in a browser.
func (l *Launcher) cacheDir() string {
	if l.cfg.DataDir == "" {
		return ""
	}
	return filepath.Join(l.cfg.DataDir, "cache")
}

// open makes a core for server under slot, and the client it uses.
func (l *Launcher) open(server, slot string) (*app.App, *client.Client, string, error) {
	url := server
	if server == localServer {
		loc, err := l.startLocal()
		if err != nil {
			return nil, nil, "", fmt.Errorf("starting this device's server: %w", err)
		}
		url = loc.url
	}
	c, err := client.New(url)
	if err != nil {
		return nil, nil, "", err
	}
	secrets, problem := l.secrets()
	cache := l.cacheDir()
	if slot != "" && cache != "" {
		cache = filepath.Join(cache, slot)
	}
	prefs := l.cfg.Prefs
	core := app.New(app.Config{
		API:                 c,
		Secrets:             secrets,
		KeyringProblem:      problem,
		IsNotFound:          func(err error) bool { return errors.Is(err, platform.ErrNotFound) },
		Prefs:               prefs,
		ClearPrefKeys:       []string{platform.PrefInstallID, platform.PrefDeviceName, platform.PrefSecretIndex, PrefServer},
		Device:              func() api.Device { return platform.DescribeDevice(prefs, l.cfg.Version) },
		CacheDir:            cache,
		DeleteLocalAccounts: l.DeleteLocalAccounts,
		NetworkUp:           platform.NetworkUp,
		Server:              server,
		Slot:                slot,
	})
	return core, c, url, nil
}

// Embedded reports whether the core talks to this device's own server.
func (l *Launcher) Embedded() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.local != nil && l.server == l.local.url
}

// URL is the server address in use.
func (l *Launcher) URL() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.server
}

// Close stops the core (logging out a session without "Remember me") and,
// with all, the embedded server.
func (l *Launcher) Close(ctx context.Context, all bool) {
	l.mu.Lock()
	core, c, loc := l.core, l.api, l.local
	l.core, l.api = nil, nil
	if all {
		l.local = nil
	}
	l.mu.Unlock()
	if core != nil {
		core.Close(ctx)
	}
	if c != nil {
		c.CloseIdleConnections()
	}
	if all && loc != nil {
		loc.close()
	}
}
