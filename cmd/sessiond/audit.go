package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"sessionguard/api"
	"sessionguard/api/auditchain"
	"sessionguard/server"
)

// progressEvery is how often a long verification says how far it got.
const progressEvery = 2 * time.Second

func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return usageError{`audit: the command is "sessiond audit verify" (see -h)`}
	}
	fs := newFlags("audit verify", stderr)
	db := fs.String("db", defaultDB(), dbFlagHelp)
	export := fs.String("export", "", "verify this export file (GET /v1/audit/export) instead of a database")
	serverKey := fs.String("server-key", "", "with --export: the server's public key, base64 as GET /v1/server-key gives it")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *export != "" {
		return verifyExport(*export, *serverKey, stdout)
	}
	st, err := openStore(ctx, *db, "")
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	last := start
	rep, err := server.VerifyAudit(ctx, st, func(r server.AuditReport) {
		if time.Since(last) >= progressEvery {
			last = time.Now()
			fmt.Fprintf(stderr, "sessiond: checked %s events of %s %s…\n", thousands(r.Events), thousands(r.Accounts), plural(r.Accounts, "account", "accounts"))
		}
	})
	var br *auditchain.BreakError
	if errors.As(err, &br) {
		name := br.AccountID
		if a, aerr := st.Account(ctx, br.AccountID); aerr == nil {
			name = fmt.Sprintf("%s (%s)", a.Username, a.ID)
		}
		return fmt.Errorf("the security log of account %s is broken at event %d: %s", name, br.Seq, br.Reason)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s %s of %s %s verified: every chain and head intact (%s)\n",
		st.name, thousands(rep.Events), plural(rep.Events, "event", "events"), thousands(rep.Accounts), plural(rep.Accounts, "account", "accounts"),
		time.Since(start).Round(time.Millisecond))
	return nil
}

// verifyExport checks an export file against the server's key.
func verifyExport(path, key string, stdout io.Writer) error {
	if key == "" {
		return usageError{"--export needs --server-key (GET /v1/server-key's public_key)"}
	}
	pub, err := auditchain.ParseServerKey(api.ServerKey{Alg: api.ServerKeyAlg, PublicKey: key})
	if err != nil {
		return usageError{err.Error()}
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := auditchain.ReadExport(f, ed25519.PublicKey(pub), auditchain.ReadOptions{})
	if err != nil {
		return fmt.Errorf("%s does not verify: %w", path, err)
	}
	h := res.Head.Head
	fmt.Fprintf(stdout, "%s: %s events of account %s verified, ending at event %d (%.12s…), signed at %s\n",
		path, thousands(res.Events), h.AccountID, h.Seq, h.Hash, h.At.Format(time.RFC3339))
	return nil
}

// thousands writes n with comma separators: 1,000,000.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
