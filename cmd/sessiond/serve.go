package main

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sessionguard/api"
	"sessionguard/server"
	"sessionguard/server/geo"
	"sessionguard/server/keyfile"
	"sessionguard/web"
)

const signingKeyHelp = "file with the Ed25519 key that signs audit log heads (GET /v1/audit/export), created (0600) if missing; every replica of a database needs the same file (default: " + server.AuditKeyFile + " beside a SQLite database, or in the user data directory)"

const secretsKeyHelp = "file with the key that seals two-step secrets at rest, created (0600) if missing; every replica of a database needs the same file (default: secrets.key beside a SQLite database, or in the user data directory)"

// embeddedWeb returns the web app built into sessiond: web/dist as `make
// web` left it when sessiond was built. Tests replace it.
var embeddedWeb = web.Dist

// notBuiltMessage is what / answers (404) when sessiond was built without
// the web app and no --web-dir was given.
const notBuiltMessage = "This sessiond was built without the web app: run make web, or pass --web-dir."

// fdReserve is how many file descriptors sessiond keeps for itself (the
// database files and connections, logs, the GeoIP file) below the file
// limit when it bounds its connections.
const fdReserve = 64

// durationFlag is a duration flag with a rule for zero: none (zeroMeans
// says what it then means) or refused. Negative values are refused.
type durationFlag struct {
	name      string
	v         *time.Duration
	zeroMeans string // "" when zero is refused
}

func (d durationFlag) check() error {
	switch {
	case *d.v < 0:
		return usageError{fmt.Sprintf("--%s must not be negative", d.name)}
	case *d.v == 0 && d.zeroMeans == "":
		return usageError{fmt.Sprintf("--%s must be more than 0", d.name)}
	}
	return nil
}

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	addr := fs.String("addr", "127.0.0.1:8420", "listen address")
	db := fs.String("db", defaultDB(), dbFlagHelp)
	var cfg server.Config
	fs.BoolVar(&cfg.OpenRegistration, "open-registration", false, "allow anyone to create an account (rate-limited per address)")
	fs.BoolVar(&cfg.RequireBound, "require-bound", false, "refuse sign-ins without a DPoP proof, so every new session is bound to a key on its device (apps too old to send one cannot sign in; sessions signed in before keep working)")
	fs.IntVar(&cfg.DPoPReplays, "dpop-replay-cache", 1_000_000, "how many recent DPoP proofs this replica remembers to refuse a second use (about 28 bytes each: 27 MiB for the default; each is kept while its iat is within 60 s of the clock, so the default covers about 15,000 proofs a second; when full, requests with a proof are answered 503)")
	durations := []durationFlag{
		{"access-ttl", fs.Duration("access-ttl", 15*time.Minute, "access token lifetime"), ""},
		{"refresh-grace", fs.Duration("refresh-grace", 10*time.Second, "how long a rotated refresh token may be retried (0: not at all)"), "no grace"},
		{"reauth-window", fs.Duration("reauth-window", 10*time.Minute, "how recent a password proof step-up actions need"), ""},
		{"retention", fs.Duration("retention", 90*24*time.Hour, "how long ended sessions and spent tokens are kept (0: forever); audit events are always kept"), "forever"},
		{"min-idle-timeout", fs.Duration("min-idle-timeout", time.Hour, "the shortest inactivity rule accepted, a device's own or the account's (at least 5m)"), ""},
		{"idle-sweep-every", fs.Duration("idle-sweep-every", 30*time.Second, "how often sessions unused past their inactivity rule are ended, for devices that never call again"), ""},
	}
	var proxies prefixList
	fs.Var(&proxies, "trusted-proxy", "CIDR of a proxy whose X-Forwarded-For is trusted (repeatable)")
	cert := fs.String("tls-cert", "", "TLS certificate file (PEM)")
	key := fs.String("tls-key", "", "TLS key file (PEM)")
	format := fs.String("log-format", "text", "log format: text or json")
	netHTTPStreams := fs.Bool("net-http-streams", false, "serve event streams through net/http for their whole life (about 40 KiB each instead of 7 KiB; see docs/PERFORMANCE.md)")
	geoDB := fs.String("geoip-db", "", "GeoIP2/GeoLite2 City .mmdb file for the approximate location of sessions (default: no locations)")
	metricsAddr := fs.String("metrics-addr", "", "serve Prometheus metrics at /metrics on this address, e.g. 127.0.0.1:9420 (default: off)")
	keyFile := fs.String("secrets-key-file", "", secretsKeyHelp)
	signingKeyFile := fs.String("signing-key-file", "", signingKeyHelp)
	webDir := fs.String("web-dir", "", "serve the web app packed in this folder (what make web writes: web/dist) instead of the copy built into sessiond")
	noWeb := fs.Bool("no-web", false, "serve the API only: no web app at /")
	sync := fs.String("sqlite-synchronous", "full", "SQLite only: full (an acknowledged change survives power loss) or normal (faster; survives a crash of sessiond but not of the machine)")
	if err := parse(fs, args); err != nil {
		return err
	}
	for _, d := range durations {
		if err := d.check(); err != nil {
			return err
		}
	}
	cfg.AccessTTL, cfg.RefreshGrace, cfg.ReauthWindow, cfg.Retention = *durations[0].v, *durations[1].v, *durations[2].v, *durations[3].v
	cfg.IdleSweepEvery = *durations[5].v
	if cfg.MinIdleTimeout = *durations[4].v; cfg.MinIdleTimeout < server.MinIdleTimeoutFloor {
		return usageError{fmt.Sprintf("--min-idle-timeout must be at least %v: a session's last use may be written up to a minute late", server.MinIdleTimeoutFloor)}
	}
	if cfg.RefreshGrace == 0 {
		cfg.RefreshGrace = -1 // the library's "none"
	}
	if cfg.Retention == 0 {
		cfg.Retention = -1
	}
	if cfg.DPoPReplays < 1 {
		return usageError{"--dpop-replay-cache must be at least 1"}
	}
	if (*cert == "") != (*key == "") {
		return usageError{"--tls-cert and --tls-key go together"}
	}
	if *webDir != "" && *noWeb {
		return usageError{"--web-dir and --no-web exclude each other"}
	}
	var h slog.Handler
	switch *format {
	case "text":
		h = slog.NewTextHandler(stderr, nil)
	case "json":
		h = slog.NewJSONHandler(stderr, nil)
	default:
		return usageError{`--log-format must be "text" or "json"`}
	}
	log := slog.New(h)
	cfg.TrustedProxies, cfg.Logger, cfg.Version = proxies, log, buildVersion()
	if *geoDB != "" {
		gdb, err := geo.Open(*geoDB)
		if err != nil {
			return err
		}
		defer gdb.Close()
		cfg.Locator = gdb
	}
	webApp, webFrom, err := openWeb(*webDir, *noWeb, log)
	if err != nil {
		return err
	}
	limit, err := raiseFileLimit()
	if err != nil {
		log.Warn("could not raise the open-file limit", "err", err)
	}

	st, err := openStore(ctx, *db, *sync)
	if err != nil {
		return err
	}
	defer st.Close()
	if cfg.SecretsKey, err = loadSecretsKey(*keyFile, *db, stderr); err != nil {
		return err
	}
	if cfg.AuditKey, err = loadAuditKey(*signingKeyFile, *db, stderr); err != nil {
		return err
	}
	srv := server.New(st, cfg)
	if n, err := srv.SealStoredSecrets(ctx); err != nil {
		return err
	} else if n > 0 {
		log.Info("sealed two-step secrets stored in the clear", "count", n)
	}
	if !*netHTTPStreams {
		srv.DetachStreams()
	}
	leave, err := st.connectReplicas(ctx, srv, log)
	if err != nil {
		return err
	}
	defer leave()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	maxConns := 0
	if limit > 2*fdReserve {
		maxConns = int(limit) - fdReserve
		ln = srv.GuardListener(ln, maxConns)
	}
	hs := &http.Server{
		Handler:           withWeb(srv.Handler(), srv.Routes(), webApp),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(h, slog.LevelWarn),
	}
	scheme := "http"
	if *cert != "" {
		scheme = "https"
		hs.TLSConfig = tlsConfig()
	}
	stopBackground := srv.StartBackground()
	defer stopBackground()
	errc := make(chan error, 2)
	go func() {
		if *cert != "" {
			errc <- hs.ServeTLS(ln, *cert, *key)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	var ms *http.Server
	if *metricsAddr != "" {
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", srv.MetricsHandler())
		ms = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := ms.Serve(mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("metrics: %w", err)
			}
		}()
		log.Info("metrics listening", "metrics_url", "http://"+mln.Addr().String()+"/metrics")
	}
	log.Info("sessiond listening", "url", scheme+"://"+ln.Addr().String(), "version", cfg.Version, "db", st.name,
		"open_registration", cfg.OpenRegistration, "require_bound", cfg.RequireBound, "geoip_db", *geoDB, "max_connections", maxConns, "web", webFrom)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	srv.Close() // end event streams so Shutdown need not wait for them
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if ms != nil {
		_ = ms.Shutdown(sctx)
	}
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// openWeb returns the web app to serve beside the API: the site packed in
// dir, or else the one built into sessiond; nil with --no-web. from says
// which, for the log. A sessiond built without the web app (make web had
// not run) serves notBuiltMessage instead, and logs it once.
func openWeb(dir string, off bool, log *slog.Logger) (h http.Handler, from string, err error) {
	switch {
	case off:
		return nil, "off", nil
	case dir != "":
		if h, err = web.Handler(os.DirFS(dir)); err != nil {
			return nil, "", fmt.Errorf("--web-dir %s: %w", dir, err)
		}
		return h, dir, nil
	}
	h, err = web.Handler(embeddedWeb())
	switch {
	case errors.Is(err, web.ErrNotBuilt):
		log.Warn("this sessiond was built without the web app: / answers 404; run make web before go build, or pass --web-dir")
		return web.Unavailable(notBuiltMessage), "not built", nil
	case err != nil:
		return nil, "", fmt.Errorf("the web app built into sessiond: %w", err)
	}
	return h, "built in", nil
}

// withWeb serves the API's paths with apiH and every other path with
// webH (when there is one). The API's paths are those under the first
// segment of any route it registers (/v1/…, /healthz), so an unknown
// /v1/… path still gets the API's JSON error, never the web app.
func withWeb(apiH http.Handler, routes []api.Route, webH http.Handler) http.Handler {
	if webH == nil {
		return apiH
	}
	apiRoots := map[string]bool{}
	for _, rt := range routes {
		apiRoots[firstSegment(rt.Path)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if apiRoots[firstSegment(r.URL.Path)] {
			apiH.ServeHTTP(w, r)
			return
		}
		webH.ServeHTTP(w, r)
	})
}

// firstSegment is "v1" for "/v1/me", "healthz" for "/healthz", "" for "/".
func firstSegment(path string) string {
	seg, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return seg
}

// tlsConfig allows TLS 1.2 only with forward-secret AEAD suites (no CBC,
// no SHA-1 MACs, no RSA key exchange); TLS 1.3's suites are all AEAD.
func tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}

// loadSecretsKey reads (or creates) the key that seals two-step secrets:
// the file given, or secrets.key beside a SQLite database, or in the data
// directory for PostgreSQL (where every replica needs a copy of the same
// file: say so when it is made).
func loadSecretsKey(path, db string, stderr io.Writer) ([]byte, error) {
	return loadKey("secrets key", "secrets.key", "--secrets-key-file", path, db, server.SecretsKeySize, stderr)
}

// loadAuditKey reads (or creates) the seed of the key that signs audit
// heads, as loadSecretsKey does, from audit-signing.key by default.
func loadAuditKey(path, db string, stderr io.Writer) ([]byte, error) {
	return loadKey("audit signing key", server.AuditKeyFile, "--signing-key-file", path, db, ed25519.SeedSize, stderr)
}

// loadKey reads (or creates, 0600) a size-byte key: the file at path, or
// the file named name beside a SQLite database, or in the data directory
// for PostgreSQL, where every replica needs the same file (flag), as it
// says when it makes one.
func loadKey(what, name, flag, path, db string, size int, stderr io.Writer) ([]byte, error) {
	if path == "" {
		dir := filepath.Dir(db)
		if isPostgres(db) {
			dir = filepath.Dir(defaultDBPath())
		}
		path = filepath.Join(dir, name)
	}
	key, created, err := keyfile.LoadOrCreate(path, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if created && isPostgres(db) {
		fmt.Fprintf(stderr, "sessiond: created the %s %s; give every replica of this database the same file (%s)\n", what, path, flag)
	}
	return key, nil
}
