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
	if len(r.ServerArgs) > 0 {
		env += "; sessiond serve " + strings.Join(r.ServerArgs, " ")
	}
	if len(r.Env) > 0 {
		env = strings.Join(r.Env, " ")
	}
	p("## sgload, %s", r.Started.Format("2006-01-02 15:04 MST"))
	p("")
	p("`sgload %s` on %s, %d CPUs, %s; sessiond runtime settings: %s; open-files limit %d; load average before the run %s; run took %v.",
		strings.Join(r.Args, " "), r.CPU, r.NumCPU, r.Go, env, r.NoFile, r.LoadAvg, r.Took.Round(time.Second))
	p("")

	p("### Authenticated requests: GET /v1/me")
	p("")
	p("| store | requests | connections | req/s | p50 | p99 | max | sessiond CPU per request | machine busy (sessiond / sgload) | peak RSS |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, b := range r.Backends {
		m := b.Me
		p("| %s | %d | %d | %.0f | %s | %s | %s | %.0f µs | %.0f %% (%.0f %% / %.0f %%) | %s |", b.Store, m.Latency.N, m.Concurrency,
			m.Latency.PerSecond, ms(m.Latency.P50), ms(m.Latency.P99), ms(m.Latency.Max), m.ServerCPUUs,
			share(m.CPU.Busy, m.CPU.Machine), share(m.CPU.Server, m.CPU.Machine), share(m.CPU.Tool, m.CPU.Machine), mib(m.PeakRSS))
	}
	p("")

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

	p("### sessiond memory")
	p("")
	p("| store | state | RSS | Go heap in use | goroutine stacks | heap kept, unused | Go runtime | goroutines | RSS per stream | heap + stacks per stream |")
	p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, b := range r.Backends {
		row := func(state string, m memSample, per, heapPer string) {
			p("| %s | %s | %s | %s | %s | %s | %s | %.0f | %s | %s |", b.Store, state, mib(m.RSS), mib(int64(m.HeapInuse)),
				mib(int64(m.StackInuse)), mib(int64(m.HeapUnused)), mib(int64(m.Runtime)), m.Goroutines, per, heapPer)
		}
		row("idle after start", b.Idle, "", "")
		row("after GET /v1/me and lists, no streams", b.BeforeStreams, "", "")
		for _, l := range b.Levels {
			row(fmt.Sprintf("%d streams open (%v after opening)", l.Streams, r.Settle), l.Mem, kib(l.PerStream), kib(l.HeapPer))
			if l.Steady != nil {
				row(fmt.Sprintf("%d streams open, %v later", l.Streams, r.Steady), *l.Steady, kib(l.SteadyPer), kib(l.SteadyHeapPer))
			}
		}
		row(fmt.Sprintf("after sign-ins (peak RSS of the run: %s)", mib(b.Final.HWM)), b.Final, "", "")
	}
	p("")

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

	p("### Sign-in (POST /v1/login, argon2id m=19 MiB, t=2, p=1)")
	p("")
	p("| store | sign-ins | parallel | per second | p50 | p99 | sessiond CPU per sign-in | argon2id verify alone (CPU) | = GET /v1/me requests | machine busy (sessiond share) | peak RSS |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, b := range r.Backends {
		l := b.Login
		same := 0.0
		if b.Me.ServerCPUUs > 0 {
			same = float64(l.PerLogin.Microseconds()) / b.Me.ServerCPUUs
		}
		p("| %s | %d | %d | %.1f | %s | %s | %s | %s | %.0f | %.0f %% (%.0f %%) | %s |", b.Store, l.Latency.N, l.Concurrency,
			l.Latency.PerSecond, ms(l.Latency.P50), ms(l.Latency.P99), ms(l.PerLogin), ms(l.Argon2), same,
			share(l.CPU.Busy, l.CPU.Machine), share(l.CPU.Server, l.CPU.Machine), mib(l.PeakRSS))
	}
	p("")

	p("### Seeding (through the store package, before sessiond starts)")
	p("")
	p("| store | accounts | sessions | audit events | took |")
	p("|---|---:|---:|---:|---:|")
	for _, b := range r.Backends {
		p("| %s | %d | %d | %d | %v |", b.Store, b.SeedAccounts, b.SeedSessions, b.SeedEvents, b.SeedTook.Round(time.Millisecond))
	}
}
