//go:build ios

package platform

import (
	"strings"
	"syscall"
)

// loadHostFacts asks sysctl for the iOS version and the device model
// ("iPhone15,2"). Apps have no OS user name on iOS; the host name is the
// fallback for the default device name.
func loadHostFacts() hostFacts {
	f := hostFacts{goos: "ios", osName: "iOS", hostName: hostName(), kind: "iPhone"}
	if v, err := syscall.Sysctl("kern.osproductversion"); err == nil && printable(v) != "" {
		f.osName = "iOS " + printable(v)
	}
	if m, err := syscall.Sysctl("hw.machine"); err == nil {
		f.model = printable(m)
	}
	if strings.HasPrefix(f.model, "iPad") {
		f.kind = "iPad"
		f.osName = strings.Replace(f.osName, "iOS", "iPadOS", 1)
	}
	if f.hostName == "" || strings.EqualFold(cleanHostName(f.hostName), "localhost") {
		f.hostName = f.kind
	}
	return f
}
