package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"sessionguard/cmd/internal/cli"
)

// proc is one running sessiond.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
	url    string
	log    string
}

// startSessiond runs `sessiond serve` on db, on a free loopback port, with
// open registration and a refresh grace long enough that a retried refresh
// never depends on how long a restart took. Its log is appended to logPath.
// It returns once /healthz answers 200.
func startSessiond(ctx context.Context, bin, db, logPath string) (*proc, error) {
	var lastErr error
	for range 3 { // the free port may be taken in between
		p, err := tryStart(ctx, bin, db, logPath)
		if err == nil {
			return p, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func tryStart(ctx context.Context, bin, db, logPath string) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	fmt.Fprintf(logf, "\n==== sgcrash: sessiond serve --addr %s ====\n", addr)
	cmd := exec.Command(bin, "serve", "--db", db, "--addr", addr, "--open-registration", "--refresh-grace", "10m")
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, and SIGKILL if this tool dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting sessiond: %w", err)
	}
	p := &proc{cmd: cmd, exited: make(chan struct{}), url: "http://" + addr, log: logPath}
	go func() { _ = cmd.Wait(); close(p.exited) }()

	switch err := cli.WaitHealthy(ctx, p.url, p.exited, 30*time.Second); {
	case err == nil:
		return p, nil
	case errors.Is(err, cli.ErrExited):
		return nil, fmt.Errorf("sessiond exited at start (%v):\n%s", cmd.ProcessState, tail(logPath, 8))
	case ctx.Err() != nil:
		p.kill()
		return nil, ctx.Err()
	default:
		p.kill()
		return nil, fmt.Errorf("sessiond did not answer /healthz within 30 s:\n%s", tail(logPath, 8))
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// stop asks sessiond to shut down (SIGTERM) and waits; it is killed if it
// takes more than 30 s.
func (p *proc) stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.kill()
		return errors.New("sessiond did not stop within 30 s of SIGTERM")
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
