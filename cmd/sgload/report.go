//go:build linux

package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// writeReport prints the results as Markdown tables.
func writeReport(w io.Writer, r *results) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	env := "defaults (GOGC, GOMEMLIMIT unset)"
	if len(r.Env) > 0 {
		env = strings.Join(r.Env, " ")
	}
	if len(r.MainArgs) > 0 {
		env += "; sessiond serve " + strings.Join(r.MainArgs, " ")
	}
	p("## sgload, %s", r.Started.Format("2006-01-02 15:04 MST"))
	p("")
	p("`sgload %s` on %s, %d CPUs, %s; sessiond runtime settings: %s; open-files limit %d; load average before the run %s; run took %v.",
		strings.Join(r.Args, " "), r.CPU, r.NumCPU, r.Go, env, r.NoFile, r.LoadAvg, r.Took.Round(time.Second))
	p("")

	if anyBackend(r, func(b *backendResult) bool { return b.Me != nil }) {
		reportMe(p, r)
	}
	if anyBackend(r, func(b *backendResult) bool { return b.Bound != nil }) {
		reportBound(p, r)
	}
	if anyBackend(r, func(b *backendResult) bool { return len(b.Levels) > 0 }) {
		reportStreams(p, r)
		reportReceipts(p, r)
	}
	if anyBackend(r, func(b *backendResult) bool { return b.Idle.RSS > 0 }) {
		reportMemory(p, r)
	}
	if anyBackend(r, func(b *backendResult) bool { return len(b.Pages) > 0 }) {
		reportPages(p, r)
	}
	if anyBackend(r, func(b *backendResult) bool { return b.Login != nil }) {
		reportLogin(p, r)
	}
	if anyBackend(r, func(b *backendResult) bool { return b.Flood != nil }) {
		reportFlood(p, r)
	}
	if anyBackend(r, func(b *backendResult) bool { return b.Writes != nil }) {
		reportWrites(p, r)
	}
	if anyBackend(r, func(b *backendResult) bool { return b.Sweep != nil }) {
		reportSweep(p, r)
	}

	p("### Seeding (through the store package, before sessiond starts)")
	p("")
	p("| store | accounts | sessions | audit events | took |")
	p("|---|---:|---:|---:|---:|")
	for _, b := range r.Backends {
		p("| %s | %d | %d | %d | %v |", b.Store, b.SeedAccounts, b.SeedSessions, b.SeedEvents, b.SeedTook.Round(time.Millisecond))
	}
}

// printf is a report line.
type printf func(format string, a ...any)

// anyBackend reports whether some back end has something to report.
func anyBackend(r *results, has func(*backendResult) bool) bool {
	for _, b := range r.Backends {
		if has(b) {
			return true
		}
	}
	return false
}

func reportMe(p printf, r *results) {
	p("### Authenticated requests: GET /v1/me")
	p("")
	p("| store | requests | connections | req/s | p50 | p99 | max | sessiond CPU per request | machine busy (sessiond / sgload / PostgreSQL / other work) | peak RSS |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, b := range r.Backends {
		m := b.Me
		if m == nil {
			continue
		}
		p("| %s | %d | %d | %.0f | %s | %s | %s | %.0f µs | %.0f %% (%.0f %% / %.0f %% / %.0f %% / %.0f %%) | %s |", b.Store, m.Latency.N, m.Concurrency,
			m.Latency.PerSecond, ms(m.Latency.P50), ms(m.Latency.P99), ms(m.Latency.Max), m.ServerCPUUs,
			share(m.CPU.Busy, m.CPU.Machine), share(m.CPU.Server, m.CPU.Machine), share(m.CPU.Tool, m.CPU.Machine),
			share(m.CPU.DB, m.CPU.Machine), m.CPU.otherShare(), mib(m.PeakRSS))
	}
	p("")
}

func reportBound(p printf, r *results) {
	p("### GET /v1/me: Bearer against DPoP-bound tokens")
	p("")
	p("Rounds alternate; each bound request carries a fresh proof (made before its round).")
	p("")
	p("| store | round | tokens | requests | connections | req/s | p50 | p99 | max | sessiond CPU per request | machine busy (sessiond / sgload / other work) |")
	p("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, b := range r.Backends {
		br := b.Bound
		if br == nil {
			continue
		}
		for i, rd := range br.Rounds {
			kind := "Bearer"
			if rd.Bound {
				kind = "DPoP"
			}
			p("| %s | %d | %s | %d | %d | %.0f | %s | %s | %s | %.0f µs | %.0f %% (%.0f %% / %.0f %% / %.0f %%) |", b.Store, i/2+1, kind,
				rd.Latency.N, br.Concurrency, rd.Latency.PerSecond, ms(rd.Latency.P50), ms(rd.Latency.P99), ms(rd.Latency.Max),
				rd.ServerCPUUs, share(rd.CPU.Busy, rd.CPU.Machine), share(rd.CPU.Server, rd.CPU.Machine),
				share(rd.CPU.Tool, rd.CPU.Machine), rd.CPU.otherShare())
		}
	}
	p("")
	p("| store | sessiond CPU per request, Bearer (mean of rounds) | DPoP-bound | difference |")
	p("|---|---:|---:|---:|")
	for _, b := range r.Backends {
		if br := b.Bound; br != nil {
			p("| %s | %.0f µs | %.0f µs | %+.0f µs |", b.Store, br.UnboundCPUUs, br.BoundCPUUs, br.BoundCPUUs-br.UnboundCPUUs)
		}
	}
	p("")
}

func reportStreams(p printf, r *results) {
	p("### Revoke → `session.revoked` on the revoked device's stream")
	p("")
	p("| store | streams open | revokes | p50 | p99 | max | DELETE answered, p50 / p99 | streams closed after | opened in |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, b := range r.Backends {
		for _, l := range b.Levels {
			p("| %s | %d | %d | %s | %s | %s | %s / %s | %d of %d | %v (%.0f/s) |", b.Store, l.Streams, l.Revoke.N,
				ms(l.Revoke.P50), ms(l.Revoke.P99), ms(l.Revoke.Max), ms(l.DeleteRT.P50), ms(l.DeleteRT.P99),
				l.ClosedAfter, l.Revoke.N, l.OpenTook.Round(time.Millisecond), float64(l.Opened)/l.OpenTook.Seconds())
		}
	}
	p("")
}

func reportReceipts(p printf, r *results) {
	p("### Revoke → receipt received by the server (devices that confirm at once)")
	p("")
	p("The same revokes, with `?erase=true`: each device sends `POST /v1/closures` (its closure token, `erased: true`) the moment " +
		"its `session.revoked` data line arrives; a receipt counts once sessiond has answered it 204 (committed, audited, " +
		"`sessions.changed` published).")
	p("")
	p("| store | streams open | receipts | revoke → receipt p50 | p99 | max | event → receipt p50 / p99 |")
	p("|---|---:|---:|---:|---:|---:|---:|")
	for _, b := range r.Backends {
		for _, l := range b.Levels {
			if l.Receipt.N == 0 {
				continue
			}
			p("| %s | %d | %d | %s | %s | %s | %s / %s |", b.Store, l.Streams, l.Receipt.N,
				ms(l.Receipt.P50), ms(l.Receipt.P99), ms(l.Receipt.Max), ms(l.ReceiptAlone.P50), ms(l.ReceiptAlone.P99))
		}
	}
	p("")
	if !anyBackend(r, func(b *backendResult) bool { return len(b.Levels) > 0 && b.Levels[0].Burst != nil }) {
		return
	}
	p("A burst: that many accounts' controllers send `DELETE /v1/sessions?scope=others&erase=true` at the same moment, " +
		"and every device they log out sends its receipt the moment its event arrives; per device, its controller's DELETE " +
		"start → its receipt answered.")
	p("")
	p("| store | streams open | accounts at once | devices confirming at once | p50 | p99 | max | all receipts in |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, b := range r.Backends {
		for _, l := range b.Levels {
			if bu := l.Burst; bu != nil {
				p("| %s | %d | %d | %d | %s | %s | %s | %s |", b.Store, l.Streams-l.Revoke.N, bu.Accounts, bu.Devices,
					ms(bu.Latency.P50), ms(bu.Latency.P99), ms(bu.Latency.Max), ms(bu.Took))
			}
		}
	}
	p("")
}

func reportMemory(p printf, r *results) {
	p("### sessiond memory")
	p("")
	p("| store | state | RSS | Go heap in use | goroutine stacks | heap kept, unused | Go runtime | goroutines | RSS per stream | heap + stacks per stream |")
	p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, b := range r.Backends {
		row := func(state string, m memSample, per, heapPer string) {
			p("| %s | %s | %s | %s | %s | %s | %s | %.0f | %s | %s |", b.Store, state, mib(m.RSS), mib(int64(m.HeapInuse)),
				mib(int64(m.StackInuse)), mib(int64(m.HeapUnused)), mib(int64(m.Runtime)), m.Goroutines, per, heapPer)
		}
		if b.Idle.RSS == 0 {
			continue
		}
		row("idle after start", b.Idle, "", "")
		if b.BeforeStreams.RSS > 0 {
			row("after GET /v1/me and lists, no streams", b.BeforeStreams, "", "")
		}
		for _, l := range b.Levels {
			row(fmt.Sprintf("%d streams open (%v after opening)", l.Streams, r.Settle), l.Mem, kib(l.PerStream), kib(l.HeapPer))
			if l.Steady != nil {
				row(fmt.Sprintf("%d streams open, %v later", l.Streams, r.Steady), *l.Steady, kib(l.SteadyPer), kib(l.SteadyHeapPer))
			}
		}
		row(fmt.Sprintf("at the end (peak RSS of the run: %s)", mib(b.Final.HWM)), b.Final, "", "")
	}
	p("")
}

func reportPages(p printf, r *results) {
	p("### Large lists, one page over HTTP")
	p("")
	p("| store | request | items | p50 | p99 | max | all pages of 200 |")
	p("|---|---|---:|---:|---:|---:|---:|")
	for _, b := range r.Backends {
		for _, pg := range b.Pages {
			walk := ""
			if pg.WalkPages > 0 {
				walk = fmt.Sprintf("%d items in %d pages, %v", pg.WalkItems, pg.WalkPages, pg.WalkTook.Round(time.Millisecond))
			}
			p("| %s | `%s` | %d | %s | %s | %s | %s |", b.Store, pg.Request, pg.Items, ms(pg.Latency.P50),
				ms(pg.Latency.P99), ms(pg.Latency.Max), walk)
		}
	}
	p("")
}

func reportLogin(p printf, r *results) {
	p("### Sign-in (POST /v1/login, argon2id m=19 MiB, t=2, p=1)")
	p("")
	p("| store | sign-ins | parallel | per second | p50 | p99 | sessiond CPU per sign-in | argon2id verify alone (CPU) | = GET /v1/me requests | machine busy (sessiond share) | peak RSS |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, b := range r.Backends {
		l := b.Login
		if l == nil {
			continue
		}
		same := 0.0
		if b.Me != nil && b.Me.ServerCPUUs > 0 {
			same = float64(l.PerLogin.Microseconds()) / b.Me.ServerCPUUs
		}
		p("| %s | %d | %d | %.1f | %s | %s | %s | %s | %.0f | %.0f %% (%.0f %%) | %s |", b.Store, l.Latency.N, l.Concurrency,
			l.Latency.PerSecond, ms(l.Latency.P50), ms(l.Latency.P99), ms(l.PerLogin), ms(l.Argon2), same,
			share(l.CPU.Busy, l.CPU.Machine), share(l.CPU.Server, l.CPU.Machine), mib(l.PeakRSS))
	}
	p("")
}

func reportFlood(p printf, r *results) {
	var f *floodResult
	for _, b := range r.Backends {
		if b.Flood != nil {
			f = b.Flood
			break
		}
	}
	p("### Sign-in flood: GET /v1/me while bad sign-ins queue for argon2id")
	p("")
	p("GET /v1/me paced at %.0f/s over %d connections for %v: alone, then while %d workers each keep a wrong sign-in in flight "+
		"(sessiond with --trusted-proxy 127.0.0.1/32, every attempt from its own X-Forwarded-For address in 198.18.0.0/15; "+
		"a worker waits %v after a 429 or 503; measuring starts %v into the flood). "+
		"Kinds: unknown = a new unknown username each time (a dummy hash); accounts = wrong passwords over seeded accounts (a hash and an audit write).",
		f.MeRate, f.MeWorkers, f.Duration, f.Workers, floodBackoff, f.Warmup)
	p("")
	p("| store | flood | GET /v1/me sent (planned) | p50 | p90 | p99 | max | machine busy (sessiond / sgload / PostgreSQL / other work) |")
	p("|---|---|---:|---:|---:|---:|---:|---:|")
	for _, b := range r.Backends {
		if b.Flood == nil {
			continue
		}
		row := func(name string, m meWindow) {
			p("| %s | %s | %d (%d) | %s | %s | %s | %s | %.0f %% (%.0f %% / %.0f %% / %.0f %% / %.0f %%) |", b.Store, name, m.Latency.N, m.Planned,
				ms(m.Latency.P50), ms(m.Latency.P90), ms(m.Latency.P99), ms(m.Latency.Max),
				share(m.CPU.Busy, m.CPU.Machine), share(m.CPU.Server, m.CPU.Machine), share(m.CPU.Tool, m.CPU.Machine),
				share(m.CPU.DB, m.CPU.Machine), m.CPU.otherShare())
		}
		row("none (baseline)", b.Flood.Baseline)
		for _, k := range b.Flood.Kinds {
			row(fmt.Sprintf("%d × %s", b.Flood.Workers, k.Kind), k.Me)
		}
	}
	p("")
	p("| store | kind | attempts | per second | 401 | 429 | 503 | 401 answered p50 / p99 | 503 answered p50 | last answer after the window | sessiond CPU per attempt | peak RSS |")
	p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, b := range r.Backends {
		if b.Flood == nil {
			continue
		}
		for _, k := range b.Flood.Kinds {
			per := time.Duration(0)
			if k.Attempts > 0 {
				per = k.CPU.Server / time.Duration(k.Attempts)
			}
			p("| %s | %s | %d | %.1f | %d | %d | %d | %s / %s | %s | %s | %s | %s |", b.Store, k.Kind, k.Attempts, k.PerSecond,
				k.Unauthorized, k.RateLimited, k.Busy, msOr(k.Answered401, k.Answered401.P50), msOr(k.Answered401, k.Answered401.P99), msOr(k.Answered503, k.Answered503.P50),
				ms(k.Drain), ms(per), mib(k.PeakRSS))
		}
	}
	p("")
}

func reportWrites(p printf, r *results) {
	p("### Acknowledged writes: what durability costs")
	p("")
	for _, b := range r.Backends {
		if w := b.Writes; w != nil && w.Fsync.N > 0 {
			p("%s: %d × (write 4 KiB + fsync) of a file beside the database: p50 %s, p99 %s, max %s.", b.Store, w.Fsync.N,
				ms(w.Fsync.P50), ms(w.Fsync.P99), ms(w.Fsync.Max))
			p("")
		}
	}
	p("Each row is a fresh sessiond; rotations are POST /v1/token/refresh (one write transaction), log outs DELETE /v1/sessions/{id} " +
		"of another session of the caller's account (revoke, saved logins and audit event in one transaction); each connection a user of its own.")
	p("")
	p("| store | mode | round | connections | rotations/s | p50 | p99 | max | log outs/s | p50 | p99 | max | sessiond CPU per rotation / log out | PostgreSQL CPU per rotation / log out | other work's share of the machine |")
	p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, b := range r.Backends {
		if b.Writes == nil {
			continue
		}
		for _, run := range b.Writes.Runs {
			ro, lo := run.Rotations, run.Logouts
			db := "—"
			if ro.CPU.DB > 0 || lo.CPU.DB > 0 {
				db = fmt.Sprintf("%.0f / %.0f µs", float64(ro.CPU.DB.Microseconds())/float64(ro.Latency.N),
					float64(lo.CPU.DB.Microseconds())/float64(lo.Latency.N))
			}
			p("| %s | %s | %d | %d | %.0f | %s | %s | %s | %.0f | %s | %s | %s | %.0f / %.0f µs | %s | %.0f %% / %.0f %% |", b.Store, modeName(run.Mode), run.Round,
				b.Writes.Concurrency, ro.Latency.PerSecond, ms(ro.Latency.P50), ms(ro.Latency.P99), ms(ro.Latency.Max),
				lo.Latency.PerSecond, ms(lo.Latency.P50), ms(lo.Latency.P99), ms(lo.Latency.Max), ro.ServerCPUUs, lo.ServerCPUUs,
				db, ro.CPU.otherShare(), lo.CPU.otherShare())
		}
	}
	p("")
}

// msOr is ms(v), or "—" when the sample d is empty.
func msOr(d dist, v time.Duration) string {
	if d.N == 0 {
		return "—"
	}
	return ms(v)
}

func reportSweep(p printf, r *results) {
	p("### Inactivity sweeper: one sweep, and requests meanwhile")
	p("")
	p("Every session of the sweep accounts is under a rule (in the index of idle deadlines); a sweep that finds none due reads nothing else " +
		"(its time: sessiond_idle_sweep_duration_seconds, the sweep at start left out). For each row that many sessions were made due at once; " +
		"the sweeps that ended them (100 per transaction: the revocations, closure tokens, saved logins and one audit event each; the pushes " +
		"after each commit) are timed by sessiond, in all and in the store's transactions alone. Requests meanwhile: GET /v1/me on 4 " +
		"connections at 50/s each, POST /v1/token/refresh (a write transaction) on 4 at 10/s each, split by whether they overlapped a sweep " +
		"that ended sessions (both rows together).")
	p("")
	p("| store | sessions under a rule | sweep, nothing due (mean of n) | made due at once | ended by (sessions in database time / in all, transactions) | GET /v1/me during those sweeps p50 / p99 / max (n) | otherwise | refresh during those sweeps p50 / p99 / max (n) | otherwise |")
	p("|---|---:|---:|---:|---|---:|---:|---:|---:|")
	for _, b := range r.Backends {
		sw := b.Sweep
		if sw == nil {
			continue
		}
		d := func(x dist) string {
			if x.N == 0 {
				return "—"
			}
			return fmt.Sprintf("%s / %s / %s (%d)", ms(x.P50), ms(x.P99), ms(x.Max), x.N)
		}
		for i, st := range sw.Steps {
			var sweeps []string
			for _, s := range st.Sweeps {
				sweeps = append(sweeps, fmt.Sprintf("%d in %s / %s, %d", s.Ended, ms(s.DB), ms(s.Took), s.Transactions))
			}
			empty, rd, ro, wd, wo := "", "", "", "", ""
			if i == 0 {
				empty = fmt.Sprintf("%s (%d)", ms(sw.EmptyMean), sw.EmptySweeps)
				rd, ro, wd, wo = d(sw.ReadsDuring), d(sw.ReadsOutside), d(sw.WritesDuring), d(sw.WritesOutside)
			}
			p("| %s | %d | %s | %d | %s | %s | %s | %s | %s |", b.Store, sw.Sessions, empty, st.Due,
				strings.Join(sweeps, "; "), rd, ro, wd, wo)
		}
	}
	p("")
}
