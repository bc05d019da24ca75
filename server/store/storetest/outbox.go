package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"sessionguard/server/internal/barrier"
	"sessionguard/server/store"
)

// The outbox: entries are read from the head a caller saw, so the tests
// work in a shared database.

// outboxHead reads OutboxHead, failing the test if it cannot.
func (f *fixture) outboxHead() int64 {
	f.t.Helper()
	h, err := f.s.OutboxHead(f.ctx)
	ok(f.t, "OutboxHead", err)
	return h
}

func testOutbox(f *fixture) {
	from := f.outboxHead()
	var entries []store.OutboxEntry
	for i, data := range [][]byte{[]byte(`{"type":"sessions.changed"}`), {}, []byte("\x00\xffbinary")} {
		at := t0.Add(time.Duration(i) * time.Second)
		seq, err := f.s.AppendOutbox(f.ctx, at.In(zone), data)
		ok(f.t, "AppendOutbox", err)
		prev := from
		if n := len(entries); n > 0 {
			prev = entries[n-1].Seq
		}
		if seq <= prev {
			f.t.Errorf("AppendOutbox: Seq %d after %d", seq, prev)
		}
		entries = append(entries, store.OutboxEntry{Seq: seq, At: at, Data: data})
	}
	if h := f.outboxHead(); h != entries[2].Seq {
		f.t.Errorf("OutboxHead = %d, want the last Seq %d", h, entries[2].Seq)
	}
	cases := []struct {
		name  string
		after int64
		limit int
		want  []store.OutboxEntry
	}{
		{"from the head before", from, 10, entries},
		{"limited", from, 2, entries[:2]},
		{"after the first", entries[0].Seq, 10, entries[1:]},
		{"after the last", entries[2].Seq, 10, nil},
		{"a limit of 0", from, 0, nil},
	}
	for _, tc := range cases {
		got, err := f.s.ReadOutbox(f.ctx, tc.after, tc.limit)
		ok(f.t, "ReadOutbox "+tc.name, err)
		check(f.t, "ReadOutbox "+tc.name, got, tc.want)
	}
}

// testConcurrentAppendOutbox: concurrent appends get distinct seqs, and a
// reader finds every entry in seq order.
func testConcurrentAppendOutbox(f *fixture) {
	from := f.outboxHead()
	var (
		seqs [racers]int64
		errs [racers]error
	)
	barrier.Run(racers, func(i int) {
		seqs[i], errs[i] = f.s.AppendOutbox(f.ctx, t0, []byte(fmt.Sprint(i)))
	})
	want := make([]store.OutboxEntry, 0, racers)
	for i, err := range errs {
		ok(f.t, fmt.Sprintf("AppendOutbox racer %d", i), err)
		want = append(want, store.OutboxEntry{Seq: seqs[i], At: t0, Data: []byte(fmt.Sprint(i))})
	}
	slices.SortFunc(want, func(a, b store.OutboxEntry) int { return cmp.Compare(a.Seq, b.Seq) })
	got, err := f.s.ReadOutbox(f.ctx, from, 2*racers)
	ok(f.t, "ReadOutbox", err)
	check(f.t, "entries appended at once", got, want)
	if h := f.outboxHead(); h != want[racers-1].Seq {
		f.t.Errorf("OutboxHead = %d, want %d", h, want[racers-1].Seq)
	}
}
