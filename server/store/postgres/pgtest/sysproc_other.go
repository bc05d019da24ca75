//go:build !linux

package pgtest

import "syscall"

// sysProcAttr runs a server process as cred in its own process group.
// Only Linux can have a child signalled when its parent dies: elsewhere a
// server can outlive a test process that is killed.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true}
}
