package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"

	"sessionguard/server"
)

const usage = `sessiond — Sessionguard's account server

Usage:
  sessiond serve   [flags]                 run the API, and the web app at /
  sessiond migrate --db DB                 create or upgrade the database
  sessiond user add --db DB --username NAME           add an account (password on stdin)
  sessiond user set-password --db DB --username NAME  set a new password (on stdin); logs every device out
  sessiond user reset-mfa --db DB --username NAME     turn two-step verification off
  sessiond user logout-all --db DB --username NAME    log every device out, forget saved logins
  sessiond demo    --db DB [--force] [--devices N]  add the demo account with simulated devices
  sessiond audit verify --db DB            check every account's security log chain and head
  sessiond audit verify --export FILE --server-key KEY   check an exported log

The user commands are for an owner locked out of their account; they work
with the server stopped or running (a running server acts on them within a
second) and are audited in the account's security log as the server
administrator.

"audit verify" exits 1 naming the first account and event whose log no
longer proves itself (edited, deleted or moved after it was written).

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
		err = cmdUser(ctx, args[1:], stdin, stdout, stderr)
	case "demo":
		err = cmdDemo(ctx, args[1:], stdout, stderr)
	case "audit":
		err = cmdAudit(ctx, args[1:], stdout, stderr)
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

// parseOpen parses args into fs, then opens (and migrates) the store its
// --db flag, db, names.
func parseOpen(ctx context.Context, fs *flag.FlagSet, args []string, db *string) (*database, error) {
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	return openStore(ctx, *db, "")
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", stderr)
	db := fs.String("db", defaultDB(), dbFlagHelp)
	keyFile := fs.String("secrets-key-file", "", secretsKeyHelp)
	st, err := parseOpen(ctx, fs, args, db)
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := st.version(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s is at schema version %d\n", st.name, v)
	key, err := loadSecretsKey(*keyFile, *db, stderr)
	if err != nil {
		return err
	}
	n, err := server.New(st, server.Config{SecretsKey: key}).SealStoredSecrets(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(stdout, "sealed %d two-step secrets stored in the clear\n", n)
	}
	return nil
}

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	db := fs.String("db", defaultDB(), dbFlagHelp)
	force := fs.Bool("force", false, "add the demo account even though the database has other accounts")
	devices := fs.Int("devices", 5, fmt.Sprintf("how many devices the demo account has (5 to %d; more than 5 for trying the app on a large account)", server.MaxDemoDevices))
	st, err := parseOpen(ctx, fs, args, db)
	if err != nil {
		return err
	}
	defer st.Close()
	if !*force {
		// The demo account has a published password: it has no place in a
		// database that real people use.
		n, err := st.AccountCount(ctx)
		if err != nil {
			return err
		}
		if _, err := st.AccountByUsername(ctx, server.DemoUsername); err == nil {
			n--
		}
		if n > 0 {
			return fmt.Errorf("%s has %d other accounts: the demo account's password is public, so it is not added to a database in use (--force adds it anyway)", st.name, n)
		}
	}
	if *devices < 5 || *devices > server.MaxDemoDevices {
		return usageError{fmt.Sprintf("--devices must be from 5 to %d", server.MaxDemoDevices)}
	}
	created, err := server.New(st, server.Config{}).SeedDemoDevices(ctx, *devices)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(stdout, "created the demo account with %d simulated devices\n", *devices)
	} else {
		fmt.Fprintln(stdout, "the demo account already exists")
	}
	fmt.Fprintf(stdout, "username: %s\npassword: %s\n", server.DemoUsername, server.DemoPassword)
	return nil
}
