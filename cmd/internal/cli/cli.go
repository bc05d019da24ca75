// Package cli is what the commands under cmd/ share: a main that turns
// SIGINT and SIGTERM into a cancelled context, and, for the tools that run
// sessiond as a child process (sgcrash, sgload), building it and waiting
// for it to serve. It is internal to cmd/: nothing else needs it, and the
// server library stays free of process handling.
package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// Main runs a command's run until it returns, with a context that SIGINT
// or SIGTERM cancels, and exits the process with the status run returns.
func Main(run func(ctx context.Context) int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx)
	stop()
	os.Exit(code)
}

// SessiondPackage is the import path BuildSessiond compiles.
const SessiondPackage = "sessionguard/cmd/sessiond"

// BuildSessiond compiles the real sessiond (SessiondPackage) into dir with
// the go command and returns the binary's path. It must run inside the
// sessionguard module (go run ./cmd/... and go test do); the tools that
// call it take --sessiond PATH for a binary built elsewhere.
func BuildSessiond(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "sessiond")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, SessiondPackage)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building sessiond (run inside the sessionguard module, or pass --sessiond PATH): %v\n%s", err, out)
	}
	return bin, nil
}

// ErrExited is WaitHealthy's answer when the process exited first.
var ErrExited = errors.New("sessiond exited")

// WaitHealthy asks url's /healthz every 20 ms until it answers 200, and
// returns nil then. It gives up with ErrExited once exited is closed (the
// process is gone), with ctx's error once ctx ends, and with an error
// saying what /healthz last answered once within has passed.
func WaitHealthy(ctx context.Context, url string, exited <-chan struct{}, within time.Duration) error {
	hc := &http.Client{Timeout: time.Second}
	defer hc.CloseIdleConnections()
	deadline := time.Now().Add(within)
	for {
		resp, err := hc.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		select {
		case <-exited:
			return ErrExited
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("/healthz not OK within %v: %v", within, err)
		}
	}
}
