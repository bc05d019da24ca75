//go:build !js

package platform

import "net"

// NetworkUp reports whether this device has a network connection at all:
// an interface that is up, not loopback, with an address that is not
// link-local. When the interfaces cannot be read (some phones refuse), it
// reports true, so that a server that does not answer is called that
// rather than "offline".
func NetworkUp() bool {
	ifs, err := net.Interfaces()
	if err != nil {
		return true
	}
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if ok && !ipn.IP.IsLoopback() && !ipn.IP.IsLinkLocalUnicast() && !ipn.IP.IsUnspecified() {
				return true
			}
		}
	}
	return false
}
