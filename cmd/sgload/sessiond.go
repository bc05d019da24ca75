//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"sessionguard/cmd/internal/cli"
)

// sessiond is a running sessiond child process.
type sessiond struct {
	cmd  *exec.Cmd
	Pid  int
	URL  string // http://127.0.0.1:PORT
	Addr string // 127.0.0.1:PORT
	// MetricsURL is http://127.0.0.1:PORT/metrics, on an address of its
	// own (sessiond serves /metrics only on --metrics-addr).
	MetricsURL string
	log        *tailLog
	// sweeps receives the inactivity sweeps that ended sessions, as
	// logged (those that fill its buffer are dropped).
	sweeps chan sweepLog
	done   chan struct{} // closed when the process has exited
	err    error         // its exit status, set before done closes
}

// startSessiond runs `bin serve --db db --addr 127.0.0.1:0
// --metrics-addr 127.0.0.1:0 …` and waits until it listens and answers
// /healthz. env is the child's environment.
func startSessiond(ctx context.Context, bin, db string, extra, env []string, logTo io.Writer) (*sessiond, error) {
	args := append([]string{"serve", "--db", db, "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--log-format", "json"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive sgload
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	s := &sessiond{cmd: cmd, Pid: cmd.Process.Pid, log: newTailLog(40), sweeps: make(chan sweepLog, 1024), done: make(chan struct{})}
	listening := make(chan [2]string, 1)
	go s.readLog(stderr, logTo, listening)
	go func() { s.err = cmd.Wait(); close(s.done) }()

	wait := time.NewTimer(30 * time.Second)
	defer wait.Stop()
	select {
	case u := <-listening:
		s.URL, s.MetricsURL = u[0], u[1]
		s.Addr = strings.TrimPrefix(s.URL, "http://")
		if s.MetricsURL == "" {
			s.Stop()
			return nil, fmt.Errorf("sessiond logged no metrics_url before listening; its last log lines:\n%s", s.log)
		}
	case <-s.done:
		return nil, fmt.Errorf("sessiond exited before listening (%v); its last log lines:\n%s", s.err, s.log)
	case <-wait.C:
		s.Stop()
		return nil, fmt.Errorf("sessiond did not report its address within 30 s; its last log lines:\n%s", s.log)
	case <-ctx.Done():
		s.Stop()
		return nil, ctx.Err()
	}
	if err := cli.WaitHealthy(ctx, s.URL, s.done, 30*time.Second); err != nil {
		s.Stop()
		return nil, fmt.Errorf("sessiond /healthz: %w; its last log lines:\n%s", err, s.log)
	}
	return s, nil
}

// readLog keeps sessiond's last log lines (for error messages), copies
// them to logTo if set, and reports the listening URL and the metrics URL
// (logged before it).
func (s *sessiond) readLog(r io.Reader, logTo io.Writer, listening chan<- [2]string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	found := false
	metricsURL := ""
	for sc.Scan() {
		line := sc.Bytes()
		if logTo != nil {
			_, _ = logTo.Write(line)
			_, _ = logTo.Write([]byte{'\n'})
		}
		var rec struct {
			Msg, Route, URL string
			MetricsURL      string `json:"metrics_url"`
			Status          int
			// An inactivity sweep (every account's) that ended sessions.
			Time    time.Time
			Ended   int
			Took    time.Duration
			DB      time.Duration
			Txs     int `json:"transactions"`
			Account *string
		}
		if json.Unmarshal(line, &rec) != nil || rec.Msg != "request" || rec.Status >= 500 {
			s.log.add(string(line)) // request lines are too many to keep
		}
		if rec.MetricsURL != "" {
			metricsURL = rec.MetricsURL
		}
		if rec.Msg == "inactivity sweep" && rec.Account != nil && *rec.Account == "" {
			select {
			case s.sweeps <- sweepLog{At: rec.Time, Ended: rec.Ended, Took: rec.Took, DB: rec.DB, Transactions: rec.Txs}:
			default:
			}
		}
		if !found && rec.Msg == "sessiond listening" && rec.URL != "" {
			found = true
			listening <- [2]string{rec.URL, metricsURL}
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

// Stop ends sessiond with SIGTERM (it closes its streams and shuts down),
// or SIGKILL after 15 s, and returns an error if it had already died or
// did not stop cleanly.
func (s *sessiond) Stop() error {
	select {
	case <-s.done:
		return fmt.Errorf("sessiond had exited by itself (%v); its last log lines:\n%s", s.err, s.log)
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(15 * time.Second)
	defer t.Stop()
	select {
	case <-s.done:
		if s.err != nil {
			return fmt.Errorf("sessiond exited with %v after SIGTERM; its last log lines:\n%s", s.err, s.log)
		}
		return nil
	case <-t.C:
		_ = s.cmd.Process.Kill()
		<-s.done
		return errors.New("sessiond did not stop within 15 s of SIGTERM; killed it")
	}
}

// alive returns an error if sessiond has exited.
func (s *sessiond) alive() error {
	select {
	case <-s.done:
		return fmt.Errorf("sessiond died (%v); its last log lines:\n%s", s.err, s.log)
	default:
		return nil
	}
}

// proc reads sessiond's CPU and memory.
func (s *sessiond) proc() (procSample, error) {
	if err := s.alive(); err != nil {
		return procSample{}, err
	}
	return readProc(s.Pid)
}

// metrics reads the plain (unlabelled) samples of sessiond's /metrics.
func (s *sessiond) metrics(ctx context.Context, c *http.Client) (map[string]float64, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", s.MetricsURL, nil)
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: status %d", resp.StatusCode)
	}
	return parseMetrics(resp.Body)
}

// parseMetrics reads Prometheus text format, keeping samples without labels.
func parseMetrics(r io.Reader) (map[string]float64, error) {
	m := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || strings.ContainsRune(line, '{') {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if f, err := strconv.ParseFloat(strings.Fields(val)[0], 64); err == nil {
			m[name] = f
		}
	}
	return m, sc.Err()
}

// childEnv is this process's environment without the Go runtime tuning
// variables (so sessiond runs with the defaults a deployment has), plus
// extra.
func childEnv(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOGC", "GOMEMLIMIT", "GODEBUG", "GOMAXPROCS":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// tailLog keeps the last n lines written to it.
type tailLog struct {
	mu    sync.Mutex
	n     int
	lines []string
}

func newTailLog(n int) *tailLog { return &tailLog{n: n} }

func (t *tailLog) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line)
	if len(t.lines) > t.n {
		t.lines = t.lines[len(t.lines)-t.n:]
	}
}

func (t *tailLog) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == 0 {
		return "  (nothing logged)"
	}
	return "  " + strings.Join(t.lines, "\n  ")
}
