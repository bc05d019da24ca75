package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sessionguard/server"
	"sessionguard/server/geo"
)

const usage = `sessiond — Sessionguard's account server

Usage:
  sessiond serve   [flags]                 run the API
  sessiond migrate --db DB                 create or upgrade the database
  sessiond user add --db DB --username NAME   add an account (password on stdin)
  sessiond demo    --db DB                 add the demo account with simulated devices

DB is a SQLite file path or a postgres:// URL (default: $SESSIOND_DB, else
sessiond.db in the user's data directory). Several "serve" replicas on one
PostgreSQL database share live events through LISTEN/NOTIFY.

Run "sessiond COMMAND -h" for a command's flags.
`

// run is the whole program behind main, so tests can drive it in-process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, args[1:], stderr)
	case "migrate":
		err = cmdMigrate(ctx, args[1:], stdout, stderr)
	case "user":
		if len(args) < 2 || args[1] != "add" {
			fmt.Fprint(stderr, "usage: sessiond user add --db DB --username NAME (password on stdin)\n")
			return 2
		}
		err = cmdUserAdd(ctx, args[2:], stdin, stdout, stderr)
	case "demo":
		err = cmdDemo(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "sessiond: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "sessiond: %v\n", err)
			return 2
		}
		fmt.Fprintf(stderr, "sessiond: %v\n", err)
		return 1
	}
	return 0
}

// usageError is a mistake in the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// defaultDBPath is sessiond.db in the user's data directory.
func defaultDBPath() string {
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "sessiond.db"
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(dir, "sessionguard", "sessiond.db")
}

// prefixList is a repeatable CIDR flag.
type prefixList []netip.Prefix

func (p *prefixList) String() string { return fmt.Sprint(*p) }

func (p *prefixList) Set(v string) error {
	pr, err := netip.ParsePrefix(v)
	if err != nil {
		a, err2 := netip.ParseAddr(v)
		if err2 != nil {
			return fmt.Errorf("%q is not a CIDR network or an IP address", v)
		}
		pr = netip.PrefixFrom(a, a.BitLen())
	}
	*p = append(*p, pr.Masked())
	return nil
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("sessiond "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	addr := fs.String("addr", "127.0.0.1:8420", "listen address")
	db := fs.String("db", defaultDB(), dbFlagHelp)
	var cfg server.Config
	fs.BoolVar(&cfg.OpenRegistration, "open-registration", false, "allow anyone to create an account")
	fs.DurationVar(&cfg.AccessTTL, "access-ttl", 15*time.Minute, "access token lifetime")
	fs.DurationVar(&cfg.RefreshGrace, "refresh-grace", 10*time.Second, "how long a rotated refresh token may be retried")
	fs.DurationVar(&cfg.ReauthWindow, "reauth-window", 10*time.Minute, "how recent a password proof step-up actions need")
	var proxies prefixList
	fs.Var(&proxies, "trusted-proxy", "CIDR of a proxy whose X-Forwarded-For is trusted (repeatable)")
	cert := fs.String("tls-cert", "", "TLS certificate file (PEM)")
	key := fs.String("tls-key", "", "TLS key file (PEM)")
	format := fs.String("log-format", "text", "log format: text or json")
	netHTTPStreams := fs.Bool("net-http-streams", false, "serve event streams through net/http for their whole life (about 40 KiB each instead of 7 KiB; see docs/PERFORMANCE.md)")
	geoDB := fs.String("geoip-db", "", "GeoIP2/GeoLite2 City .mmdb file for the approximate location of sessions (default: no locations)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if (*cert == "") != (*key == "") {
		return usageError{"--tls-cert and --tls-key go together"}
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
	cfg.TrustedProxies, cfg.Logger = proxies, log
	if *geoDB != "" {
		gdb, err := geo.Open(*geoDB)
		if err != nil {
			return err
		}
		defer gdb.Close()
		cfg.Locator = gdb
	}

	st, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	srv := server.New(st, cfg)
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
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(h, slog.LevelWarn),
	}
	scheme := "http"
	if *cert != "" {
		scheme = "https"
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	errc := make(chan error, 1)
	go func() {
		if *cert != "" {
			errc <- hs.ServeTLS(ln, *cert, *key)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	log.Info("sessiond listening", "url", scheme+"://"+ln.Addr().String(), "db", st.name,
		"open_registration", cfg.OpenRegistration, "geoip_db", *geoDB)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	srv.Close() // end event streams so Shutdown need not wait for them
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", stderr)
	db := fs.String("db", defaultDB(), dbFlagHelp)
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := st.version(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s is at schema version %d\n", st.name, v)
	return nil
}

func cmdUserAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("user add", stderr)
	db := fs.String("db", defaultDB(), dbFlagHelp)
	username := fs.String("username", "", "the new account's username")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *username == "" {
		return usageError{"--username is required"}
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading the password from stdin: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		return usageError{"give the password on standard input"}
	}
	st, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	a, err := server.New(st, server.Config{}).CreateAccount(ctx, *username, password)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created account %s (%s)\n", a.Username, a.ID)
	return nil
}

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	db := fs.String("db", defaultDB(), dbFlagHelp)
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	created, err := server.New(st, server.Config{}).SeedDemo(ctx)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintln(stdout, "created the demo account with 5 simulated devices")
	} else {
		fmt.Fprintln(stdout, "the demo account already exists")
	}
	fmt.Fprintf(stdout, "username: %s\npassword: %s\n", server.DemoUsername, server.DemoPassword)
	return nil
}
