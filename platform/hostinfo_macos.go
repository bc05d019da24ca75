//go:build darwin && !ios

package platform

import (
	"strings"
	"syscall"
)

// loadHostFacts asks sysctl for the macOS version and the Mac model
// ("MacBookPro18,1"; newer laptops report "Mac14,2" and pass as a Mac).
func loadHostFacts() hostFacts {
	f := hostFacts{goos: "darwin", osName: "macOS", hostName: hostName(), kind: "Mac"}
	if v, err := syscall.Sysctl("kern.osproductversion"); err == nil && printable(v) != "" {
		f.osName = "macOS " + printable(v)
	}
	if m, err := syscall.Sysctl("hw.model"); err == nil {
		f.model = printable(m)
	}
	if strings.HasPrefix(f.model, "MacBook") {
		f.kind = "MacBook"
	}
	f.fullName, f.login = userNames()
	return f
}
