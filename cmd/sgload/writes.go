//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"sessionguard/api"
)

// Acknowledged writes: what making every acknowledged write durable costs.
// On SQLite sessiond runs synchronous=FULL by default (an fsync of the WAL
// at every commit, so a revoke it answered survives a power loss) and
// NORMAL with --sqlite-synchronous normal (the WAL is synced only at
// checkpoints). The phase starts a sessiond of its own for each mode, and
// measures refresh-token rotations (POST /v1/token/refresh: one write
// transaction each) and remote log outs (DELETE /v1/sessions/{id}: the
// revoke, the removal of saved logins and the audit event in one
// transaction) on --write-concurrency connections, each a user of its own.

// writeOp is one kind of write, measured.
type writeOp struct {
	Latency     dist    `json:"latency"`
	CPU         cpuUse  `json:"cpu"`
	ServerCPUUs float64 `json:"server_cpu_us_per_write"`
}

// writeRun is both kinds of write on one sessiond.
type writeRun struct {
	Mode      string  `json:"mode"` // "full", "normal", or "" (PostgreSQL: synchronous_commit on)
	Round     int     `json:"round"`
	Rotations writeOp `json:"refresh_rotations"`
	Logouts   writeOp `json:"remote_logouts"`
}

// writesResult is the writes phase on one store.
type writesResult struct {
	Concurrency int           `json:"concurrency"`
	Writes      int           `json:"writes"`
	Runs        []writeRun    `json:"runs"`
	Fsync       dist          `json:"fsync"` // write 4 KiB + fsync of a file beside the database (SQLite)
	Took        time.Duration `json:"took_ns"`
}

// syncModes is the modes the writes phase compares on a store.
func (c *config) syncModes(store string) []string {
	if store == "SQLite" {
		return c.SyncModes
	}
	return []string{""}
}

// modeName is how the report names a mode.
func modeName(m string) string {
	if m == "" {
		return "default"
	}
	return "synchronous=" + m
}

// runWrites is the writes phase: for each round, for each mode, a fresh
// sessiond on db, then rotations, then remote log outs. dir, if set, is
// the database's directory, where fsync itself is timed.
func runWrites(ctx context.Context, cfg *config, be backend, bin, db, dir string, data *seeded, logTo io.Writer,
	logf func(string, ...any)) (*writesResult, error) {
	start := time.Now()
	res := &writesResult{Concurrency: cfg.WriteConcurrency, Writes: cfg.Writes}
	if dir != "" {
		d, err := timeFsync(dir, 200)
		if err != nil {
			return nil, fmt.Errorf("timing fsync: %w", err)
		}
		res.Fsync = d
		logf("writes: fsync of 4 KiB beside the database: p50 %s, p99 %s", ms(d.P50), ms(d.P99))
	}
	modes := cfg.syncModes(be.Name())
	run := 0
	for round := 1; round <= cfg.WriteRounds; round++ {
		for _, mode := range modes {
			args := append([]string{"--reauth-window", "2h"}, cfg.ServerArgs...)
			if mode != "" {
				args = append(args, "--sqlite-synchronous", mode)
			}
			sd, err := startSessiond(ctx, bin, db, args, childEnv(cfg.ServerEnv), logTo)
			if err != nil {
				return nil, err
			}
			r := &runner{cfg: cfg, sd: sd, client: newHTTPClient(cfg.WriteConcurrency + 4), data: data,
				logf: func(f string, a ...any) {
					logf("writes, %s, round %d: %s", modeName(mode), round, fmt.Sprintf(f, a...))
				}}
			wr, err := r.phaseWrites(ctx, run)
			r.client.CloseIdleConnections()
			if serr := sd.Stop(); err == nil && serr != nil {
				err = serr
			}
			if err != nil {
				return nil, fmt.Errorf("writes (%s, round %d): %w", modeName(mode), round, err)
			}
			wr.Mode, wr.Round = mode, round
			res.Runs = append(res.Runs, *wr)
			run++
		}
	}
	res.Took = time.Since(start)
	return res, nil
}

// phaseWrites measures --writes rotations and --writes remote log outs,
// as the run-th run of the phase (each run has sessions of its own).
func (r *runner) phaseWrites(ctx context.Context, run int) (*writeRun, error) {
	n, conc := r.cfg.Writes, r.cfg.WriteConcurrency
	offset := run * n
	ctx, cancel := r.phaseCtx(ctx)
	defer cancel()
	ws := r.data.Writers
	// Worker w rotates the refresh token of writer w's session for this
	// run, in a chain: each answer's token is the next request's.
	rotate := func(ctx context.Context, w, _ int) error {
		s := &ws[w].Refreshers[run]
		var t api.Tokens
		if err := call(ctx, r.client, "POST", r.sd.URL+"/v1/token/refresh", "", api.RefreshRequest{RefreshToken: s.Refresh}, &t); err != nil {
			return err
		}
		if t.AccessToken == "" || t.RefreshToken == "" || t.RefreshToken == s.Refresh {
			return errors.New("POST /v1/token/refresh answered no new tokens")
		}
		s.Refresh = t.RefreshToken
		return nil
	}
	// Log out i is victim i/conc of writer i%conc, by that writer's
	// controller: consecutive log outs are on different accounts.
	logout := func(ctx context.Context, _, i int) error {
		g := offset + i
		wr := &ws[g%conc]
		v := wr.Victims[g/conc]
		var resp api.RevokeSessionResponse
		if err := call(ctx, r.client, "DELETE", r.sd.URL+"/v1/sessions/"+v.ID, wr.Controller.Token, nil, &resp); err != nil {
			return err
		}
		if resp.Session.RevokedAt == nil {
			return errors.New("DELETE /v1/sessions/{id} answered a session that is not revoked")
		}
		return nil
	}
	if _, err := hammer(ctx, 2*conc, conc, rotate); err != nil {
		return nil, r.wrap(ctx, "refresh warm-up", err)
	}
	out := &writeRun{}
	measure := func(name string, do func(context.Context, int, int) error) (writeOp, error) {
		r.logf("%d × %s on %d connections", n, name, conc)
		cpu := startCPU(r.sd.Pid)
		lat, err := hammer(ctx, n, conc, do)
		use := cpu.stop()
		if err != nil {
			return writeOp{}, r.wrap(ctx, name, fmt.Errorf("%w (%d of %d done)", err, len(lat), n))
		}
		op := writeOp{Latency: summarize(lat, use.Wall), CPU: use, ServerCPUUs: float64(use.Server.Microseconds()) / float64(n)}
		r.logf("%s: %.0f/s, p50 %s, p99 %s", name, op.Latency.PerSecond, ms(op.Latency.P50), ms(op.Latency.P99))
		return op, nil
	}
	var err error
	if out.Rotations, err = measure("POST /v1/token/refresh", rotate); err != nil {
		return nil, err
	}
	if out.Logouts, err = measure("DELETE /v1/sessions/{id}", logout); err != nil {
		return nil, err
	}
	return out, nil
}

// timeFsync times n rounds of writing 4 KiB to a file in dir and fsyncing
// it: the floor of a commit at synchronous=FULL on this disk.
func timeFsync(dir string, n int) (dist, error) {
	f, err := os.CreateTemp(dir, "fsync-probe-")
	if err != nil {
		return dist{}, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 4096)
	lat := make([]time.Duration, 0, n)
	start := time.Now()
	for i := range n {
		t0 := time.Now()
		if _, err := f.WriteAt(buf, int64(i%64)*4096); err != nil {
			return dist{}, err
		}
		if err := f.Sync(); err != nil {
			return dist{}, err
		}
		lat = append(lat, time.Since(t0))
	}
	return summarize(lat, time.Since(start)), nil
}

// dbDir is the directory of a SQLite database path ("" for a URL).
func dbDir(db string) string {
	if filepath.IsAbs(db) {
		return filepath.Dir(db)
	}
	return ""
}
