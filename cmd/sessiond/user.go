package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"sessionguard/server"
)

const userUsage = `usage: sessiond user COMMAND --db DB --username NAME
  add            add an account (password on stdin)
  set-password   set a new password (on stdin) and log every device out (--keep-sessions: don't)
  reset-mfa      turn two-step verification off
  logout-all     log every device out and forget saved logins
`

// cmdUser runs the account commands: add, and the operator commands for an
// owner who is locked out (audited as the server administrator).
func cmdUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{strings.TrimSuffix(userUsage, "\n")}
	}
	sub := args[0]
	fs := newFlags("user "+sub, stderr)
	db := fs.String("db", defaultDB(), dbFlagHelp)
	username := fs.String("username", "", "the account's username")
	keep := false
	switch sub {
	case "add", "reset-mfa", "logout-all":
	case "set-password":
		fs.BoolVar(&keep, "keep-sessions", false, "keep the account's devices signed in")
	default:
		return usageError{fmt.Sprintf("unknown user command %q\n%s", sub, strings.TrimSuffix(userUsage, "\n"))}
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *username == "" {
		return usageError{"--username is required"}
	}
	var password string
	if sub == "add" || sub == "set-password" {
		var err error
		if password, err = readPassword(stdin); err != nil {
			return err
		}
	}
	st, err := openStore(ctx, *db, "")
	if err != nil {
		return err
	}
	defer st.Close()
	srv := server.New(st, server.Config{})
	switch sub {
	case "add":
		a, err := srv.CreateAccount(ctx, *username, password)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created account %s (%s)\n", a.Username, a.ID)
	case "set-password":
		n, err := srv.AdminSetPassword(ctx, *username, password, keep)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "set a new password for %s; logged out %d sessions and removed saved login info\n", *username, n)
	case "reset-mfa":
		wasOn, err := srv.AdminResetMFA(ctx, *username)
		if err != nil {
			return err
		}
		if wasOn {
			fmt.Fprintf(stdout, "turned two-step verification off for %s; recovery codes deleted\n", *username)
		} else {
			fmt.Fprintf(stdout, "two-step verification was already off for %s\n", *username)
		}
	case "logout-all":
		n, err := srv.AdminLogoutAll(ctx, *username)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "logged out %d sessions of %s and removed saved login info\n", n, *username)
	}
	return nil
}

// readPassword reads a password from the first line of stdin.
func readPassword(stdin io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		return "", usageError{"give the password on standard input"}
	}
	return password, nil
}
