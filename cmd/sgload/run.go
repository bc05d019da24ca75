//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"sessionguard/cmd/internal/cli"
	"sessionguard/server/passwd"
)

// run is the whole program behind main, so tests can drive it in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "sgload: %v\n", err)
		}
		return 2
	}
	if err := execute(ctx, cfg, args, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "sgload: %v\n", err)
		return 1
	}
	return 0
}

// backendResult is everything measured on one store.
type backendResult struct {
	Store         string        `json:"store"`
	SeedAccounts  int           `json:"seed_accounts"`
	SeedSessions  int           `json:"seed_sessions"`
	SeedEvents    int           `json:"seed_events"`
	SeedTook      time.Duration `json:"seed_took_ns"`
	Idle          memSample     `json:"idle"`
	Me            *meResult     `json:"me"`
	Bound         *boundResult  `json:"bound"`
	Pages         []pageResult  `json:"pages"`
	BeforeStreams memSample     `json:"before_streams"`
	Levels        []streamLevel `json:"levels"`
	Login         *loginResult  `json:"login"`
	Flood         *floodResult  `json:"flood"`
	Final         memSample     `json:"final"`
	Writes        *writesResult `json:"writes"`
	Sweep         *sweepResult  `json:"sweep"`
}

// results is one sgload run.
type results struct {
	Started    time.Time     `json:"started"`
	Took       time.Duration `json:"took_ns"`
	Args       []string      `json:"args"`
	CPU        string        `json:"cpu"`
	NumCPU     int           `json:"num_cpu"`
	Go         string        `json:"go"`
	NoFile     uint64        `json:"nofile_limit"`
	Env        []string      `json:"server_env"`
	ServerArgs []string      `json:"server_args"`
	MainArgs   []string      `json:"main_server_args"` // what the sessiond of every phase but the writes got besides --db, --addr, --metrics-addr, --log-format

	Settle   time.Duration    `json:"settle_ns"`
	Steady   time.Duration    `json:"steady_ns"`
	LoadAvg  string           `json:"loadavg_at_start"`
	Backends []*backendResult `json:"backends"`
}

func execute(ctx context.Context, cfg *config, args []string, stdout, stderr io.Writer) error {
	start := time.Now()
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, "sgload %6.1fs: %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, a...))
	}
	nofile, err := raiseNoFile()
	if err != nil {
		return fmt.Errorf("raising the open-files limit: %w", err)
	}
	if need := uint64(cfg.Levels[len(cfg.Levels)-1] + cfg.MeConcurrency + 256); cfg.Phases[phaseStreams] && nofile < need {
		return fmt.Errorf("the open-files limit is %d but %d streams need about %d (raise the hard limit: ulimit -Hn)", nofile, cfg.Levels[len(cfg.Levels)-1], need)
	}
	tmp, err := os.MkdirTemp("", "sgload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := cfg.Sessiond
	if bin == "" {
		logf("building sessiond")
		if bin, err = cli.BuildSessiond(ctx, tmp); err != nil {
			return err
		}
	}
	if cfg.passwordHash, err = (passwd.Hasher{Params: passwd.OWASP}).Hash(loadPassword); err != nil {
		return err
	}
	res := &results{Started: start.UTC(), Args: args, CPU: cpuModel(), NumCPU: runtime.NumCPU(),
		Go: runtime.Version(), NoFile: nofile, Env: cfg.ServerEnv, ServerArgs: cfg.ServerArgs, MainArgs: cfg.mainArgs(), Settle: cfg.Settle, Steady: cfg.Steady, LoadAvg: loadAvg()}
	for _, name := range cfg.Backends {
		be := newBackend(name, cfg, tmp)
		br, err := runBackend(ctx, cfg, be, bin, logf)
		if cerr := be.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("cleaning up: %w", cerr)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", be.Name(), err)
		}
		res.Backends = append(res.Backends, br)
	}
	res.Took = time.Since(start)
	if cfg.JSON != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(cfg.JSON, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	out := stdout
	if cfg.Out != "" {
		f, err := os.Create(cfg.Out)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	writeReport(out, res)
	logf("done in %v", res.Took.Round(time.Second))
	return nil
}

func runBackend(ctx context.Context, cfg *config, be backend, bin string, logf func(string, ...any)) (*backendResult, error) {
	out := &backendResult{Store: be.Name()}
	logf("%s: preparing a fresh database", be.Name())
	db, err := be.Prepare(ctx)
	if err != nil {
		return nil, fmt.Errorf("preparing the database: %w", err)
	}
	st, err := be.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening the database for seeding: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, cfg.PhaseTimeout)
	l := layout{
		MeSessions: cfg.MeConcurrency, StreamsPerAccount: cfg.StreamsPerAccount,
		PasswordHash: cfg.passwordHash, Workers: cfg.SeedWorkers, SessionLife: 12 * time.Hour,
	}
	if cfg.Phases[phaseBound] {
		l.BoundSessions = cfg.MeConcurrency
	}
	if cfg.Phases[phasePages] {
		l.ListSessions, l.AuditEvents = cfg.ListSessions, cfg.AuditEvents
	}
	if cfg.Phases[phaseStreams] {
		l.StreamSessions = cfg.streamSessions()
	}
	if cfg.Phases[phaseFlood] && slices.Contains(cfg.FloodKinds, floodAccounts) {
		l.FloodAccounts = cfg.FloodAccounts
	}
	if cfg.Phases[phaseWrites] {
		runs := len(cfg.syncModes(be.Name())) * cfg.WriteRounds
		l.Writers, l.WriterRuns, l.VictimsPerWriter = cfg.WriteConcurrency, runs, cfg.victimsPerWriter(runs)
	}
	if cfg.Phases[phaseSweep] {
		l.SweepSessions, l.SweepProbes = cfg.SweepSessions, 8
	}
	data, err := seedDB(sctx, st, l, func(msg string) { logf("%s: %s", be.Name(), msg) })
	if errors.Is(sctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %v: %w", cfg.PhaseTimeout, err)
	}
	cancel()
	if cerr := st.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("seeding: %w", err)
	}
	out.SeedAccounts, out.SeedSessions, out.SeedEvents, out.SeedTook = data.Accounts, data.Sessions, data.Events, data.Took
	logf("%s: seeded %d accounts, %d sessions, %d audit events in %v", be.Name(), data.Accounts, data.Sessions, data.Events, data.Took.Round(time.Millisecond))

	var logTo io.Writer
	if cfg.ServerLogDir != "" {
		f, err := os.Create(filepath.Join(cfg.ServerLogDir, "sessiond-"+strings.ToLower(be.Name())+".log"))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		logTo = f
	}
	if cfg.mainPhases() {
		if err := runMain(ctx, cfg, out, db, bin, data, logTo, func(f string, a ...any) { logf("%s: %s", be.Name(), fmt.Sprintf(f, a...)) }); err != nil {
			return nil, err
		}
	}
	if cfg.Phases[phaseWrites] {
		if out.Writes, err = runWrites(ctx, cfg, be, bin, db, dbDir(db), data, logTo,
			func(f string, a ...any) { logf("%s: %s", be.Name(), fmt.Sprintf(f, a...)) }); err != nil {
			return nil, err
		}
	}
	if cfg.Phases[phaseSweep] {
		if out.Sweep, err = runSweep(ctx, cfg, be, bin, db, data, logTo,
			func(f string, a ...any) { logf("%s: %s", be.Name(), fmt.Sprintf(f, a...)) }); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// mainPhases reports whether any phase that shares one sessiond runs.
func (c *config) mainPhases() bool {
	for _, p := range []string{phaseMe, phaseBound, phasePages, phaseStreams, phaseLogin, phaseFlood} {
		if c.Phases[p] {
			return true
		}
	}
	return false
}

// mainArgs is the arguments of the sessiond the main phases share.
// --reauth-window: seeded sessions proved their password at seeding; the
// revokes come minutes later and must not need step-up. --trusted-proxy:
// the flood's sign-ins come from addresses in X-Forwarded-For, which
// sessiond believes from loopback only with it (sgload's own requests carry
// none, so they still come from 127.0.0.1).
func (c *config) mainArgs() []string {
	args := []string{"--reauth-window", "2h"}
	if c.Phases[phaseFlood] {
		args = append(args, "--trusted-proxy", "127.0.0.1/32")
	}
	return append(args, c.ServerArgs...)
}

// runMain runs every phase but the writes on one sessiond.
func runMain(ctx context.Context, cfg *config, out *backendResult, db, bin string, data *seeded, logTo io.Writer, logf func(string, ...any)) error {
	sd, err := startSessiond(ctx, bin, db, cfg.mainArgs(), childEnv(cfg.ServerEnv), logTo)
	if err != nil {
		return err
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = sd.Stop()
		}
	}()
	logf("sessiond pid %d at %s", sd.Pid, sd.URL)
	r := &runner{cfg: cfg, sd: sd, client: newHTTPClient(cfg.MeConcurrency + 4), data: data, logf: logf}
	time.Sleep(cfg.Settle)
	if out.Idle, err = r.memory(ctx); err != nil {
		return err
	}
	if cfg.Phases[phaseMe] {
		if out.Me, err = r.phaseMe(ctx); err != nil {
			return err
		}
	}
	if cfg.Phases[phaseBound] {
		if out.Bound, err = r.phaseBound(ctx); err != nil {
			return err
		}
	}
	if cfg.Phases[phasePages] {
		if out.Pages, err = r.phasePages(ctx); err != nil {
			return err
		}
	}
	if cfg.Phases[phaseStreams] {
		r.client.CloseIdleConnections()
		time.Sleep(cfg.Settle)
		if out.BeforeStreams, err = r.memory(ctx); err != nil {
			return err
		}
		if out.Levels, err = r.phaseStreams(ctx, out.BeforeStreams); err != nil {
			return err
		}
	}
	if cfg.Phases[phaseLogin] {
		if out.Login, err = r.phaseLogin(ctx); err != nil {
			return err
		}
	}
	if cfg.Phases[phaseFlood] {
		if out.Flood, err = r.phaseFlood(ctx); err != nil {
			return err
		}
	}
	if out.Final, err = r.memory(ctx); err != nil {
		return err
	}
	stopped = true
	return sd.Stop()
}

// loadAvg is the first three fields of /proc/loadavg: how busy the
// machine was before the run (other work skews every figure).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// cpuModel is the processor's name from /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
