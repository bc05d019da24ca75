package pgtest

import "syscall"

// sysProcAttr runs a server process as cred in its own process group, and
// has the kernel send it SIGQUIT if this process dies.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
}
