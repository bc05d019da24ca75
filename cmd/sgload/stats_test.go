//go:build linux

package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	s := summarize(d, 2*time.Second)
	if s.P50 != 50*time.Millisecond || s.P99 != 99*time.Millisecond || s.Max != 100*time.Millisecond ||
		s.Min != time.Millisecond || s.N != 100 || s.PerSecond != 50 {
		t.Fatalf("%+v", s)
	}
	if one := summarize([]time.Duration{7}, 0); one.P50 != 7 || one.P99 != 7 {
		t.Fatalf("%+v", one)
	}
	if summarize(nil, time.Second).N != 0 {
		t.Fatal("empty sample")
	}
}

func TestProcParsing(t *testing.T) {
	cpu, err := parseStatCPU([]byte("42 (odd) name) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 5 1000 10 18446744073709551615"))
	if err != nil || cpu != 3*time.Second {
		t.Fatalf("cpu %v, %v; want 3s", cpu, err)
	}
	status := []byte("Name:\tsessiond\nVmHWM:\t  20480 kB\nVmRSS:\t   10240 kB\n")
	if statusKB(status, "VmRSS:") != 10240 || statusKB(status, "VmHWM:") != 20480 {
		t.Fatal("status fields")
	}
	self, err := readProc(os.Getpid())
	if err != nil || self.RSS <= 0 || self.HWM < self.RSS {
		t.Fatalf("own /proc reading %+v, %v", self, err)
	}
	if _, err := readMachineCPU(); err != nil {
		t.Fatal(err)
	}
}

func TestParseMetrics(t *testing.T) {
	m, err := parseMetrics(strings.NewReader("# HELP x\ngo_goroutines 12\nsessiond_http_requests_total{route=\"a\"} 3\ngo_memstats_heap_inuse_bytes 1.5e+06\n"))
	if err != nil || m["go_goroutines"] != 12 || m["go_memstats_heap_inuse_bytes"] != 1.5e6 || len(m) != 2 {
		t.Fatalf("%v %v", m, err)
	}
}
