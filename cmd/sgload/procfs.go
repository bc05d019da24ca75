//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of /proc CPU times: USER_HZ, 100 on every Linux
// architecture Go supports.
const clockTick = 10 * time.Millisecond

// procSample is one reading of a process's CPU time and memory.
type procSample struct {
	At  time.Time
	CPU time.Duration // user + system
	RSS int64         // bytes (VmRSS)
	HWM int64         // bytes (VmHWM, the peak RSS so far)
}

// readProc reads /proc/PID/stat and /proc/PID/status.
func readProc(pid int) (procSample, error) {
	s := procSample{At: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	if s.CPU, err = parseStatCPU(stat); err != nil {
		return s, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	s.RSS, s.HWM = statusKB(status, "VmRSS:")*1024, statusKB(status, "VmHWM:")*1024
	return s, nil
}

// parseStatCPU returns utime + stime from a /proc/PID/stat line. The command
// name may hold spaces and parentheses, so fields are counted after the last
// ')'.
func parseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command name")
	}
	f := strings.Fields(string(stat[i+1:]))
	// After ")": state(3) ppid(4) … utime(14) stime(15), so index 11 and 12.
	if len(f) < 13 {
		return 0, fmt.Errorf("only %d fields", len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad utime/stime %q %q", f[11], f[12])
	}
	return time.Duration(ut+st) * clockTick, nil
}

// procEntry is one process of /proc for treeCPU.
type procEntry struct {
	ppid int
	comm string
	cpu  time.Duration // its own user + system time and that of its reaped children
}

// childDBCPU is the CPU time of this process's children named postgres
// (the throwaway cluster pgtest starts) and all their descendants, the
// ones that have exited included: 0 and false when there is none.
func childDBCPU() (time.Duration, bool) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	procs := map[int]procEntry{}
	kids := map[int][]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		open, closing := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || closing < open {
			continue
		}
		f := strings.Fields(string(b[closing+1:]))
		if len(f) < 15 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		var ticks int64
		for _, v := range f[11:15] { // utime stime cutime cstime
			n, _ := strconv.ParseInt(v, 10, 64)
			ticks += n
		}
		procs[pid] = procEntry{ppid: ppid, comm: string(b[open+1 : closing]), cpu: time.Duration(ticks) * clockTick}
		kids[ppid] = append(kids[ppid], pid)
	}
	var total time.Duration
	found := false
	var walk func(pid int)
	walk = func(pid int) {
		total += procs[pid].cpu
		for _, k := range kids[pid] {
			walk(k)
		}
	}
	for _, pid := range kids[os.Getpid()] {
		if procs[pid].comm == "postgres" {
			found = true
			walk(pid)
		}
	}
	return total, found
}

// statusKB finds a "Key:   123 kB" line of /proc/PID/status.
func statusKB(status []byte, key string) int64 {
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// machineCPU is the machine's busy and total CPU time from /proc/stat.
type machineCPU struct{ Busy, Total time.Duration }

func readMachineCPU() (machineCPU, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return machineCPU{}, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var m machineCPU
	for i, v := range f[1:] {
		if i >= 8 { // guest times are already counted in user and nice
			break
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return machineCPU{}, fmt.Errorf("/proc/stat: %q: %w", v, err)
		}
		d := time.Duration(n) * clockTick
		m.Total += d
		if i != 3 && i != 4 { // idle, iowait
			m.Busy += d
		}
	}
	return m, nil
}

// selfCPU is this process's own user + system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// raiseNoFile lifts the soft open-files limit to the hard one: ten thousand
// streams need ten thousand sockets here (and in sessiond, which inherits the
// limit; Go raises its own soft limit too).
func raiseNoFile() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			return 0, err
		}
	}
	return l.Cur, nil
}

// cpuWindow measures CPU use over a phase: sessiond's, this tool's and the
// whole machine's.
type cpuWindow struct {
	pid            int
	start          time.Time
	server, self   time.Duration
	db             time.Duration
	dbOK           bool
	machine        machineCPU
	serverOK, mcOK bool
}

func startCPU(pid int) *cpuWindow {
	w := &cpuWindow{pid: pid, start: time.Now(), self: selfCPU()}
	w.db, w.dbOK = childDBCPU()
	if p, err := readProc(pid); err == nil {
		w.server, w.serverOK = p.CPU, true
	}
	if m, err := readMachineCPU(); err == nil {
		w.machine, w.mcOK = m, true
	}
	return w
}

// cpuUse is CPU spent during a phase.
type cpuUse struct {
	Wall    time.Duration `json:"wall_ns"`
	Server  time.Duration `json:"server_cpu_ns"`   // sessiond user + system
	Tool    time.Duration `json:"tool_cpu_ns"`     // sgload itself
	DB      time.Duration `json:"db_cpu_ns"`       // the throwaway PostgreSQL cluster (0 for SQLite or --postgres-url)
	Busy    time.Duration `json:"machine_busy_ns"` // every process on the machine
	Machine time.Duration `json:"machine_total_ns"`
}

func (w *cpuWindow) stop() cpuUse {
	u := cpuUse{Wall: time.Since(w.start), Tool: selfCPU() - w.self}
	if p, err := readProc(w.pid); err == nil && w.serverOK {
		u.Server = p.CPU - w.server
	}
	if m, err := readMachineCPU(); err == nil && w.mcOK {
		u.Busy, u.Machine = m.Busy-w.machine.Busy, m.Total-w.machine.Total
	}
	if db, ok := childDBCPU(); ok && w.dbOK {
		u.DB = max(0, db-w.db)
	}
	return u
}

// otherShare is the share of the machine's CPU that neither sessiond,
// sgload nor the throwaway PostgreSQL used: other people's work.
func (u cpuUse) otherShare() float64 {
	return max(0, share(u.Busy-u.Server-u.Tool-u.DB, u.Machine))
}

// share is part/whole as a percentage.
func share(part, whole time.Duration) float64 {
	if whole <= 0 {
		return 0
	}
	return 100 * float64(part) / float64(whole)
}
