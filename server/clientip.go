package server

import (
	"net/http"
	"net/netip"
	"strings"

	"sessionguard/api"
)

// clientIP is the request's client address: the socket's peer, or, when that
// peer is a trusted proxy, the right-most X-Forwarded-For entry that is not
// itself a trusted proxy.
func (s *Server) clientIP(r *http.Request) netip.Addr {
	ip := peerAddr(r)
	if !ip.IsValid() || !s.trusted(ip) {
		return ip
	}
	hops := r.Header.Values("X-Forwarded-For")
	var all []string
	for _, h := range hops {
		all = append(all, strings.Split(h, ",")...)
	}
	for i := len(all) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(all[i]))
		if err != nil {
			return ip // a malformed hop: stop believing the chain
		}
		a = a.Unmap()
		if !s.trusted(a) {
			return a
		}
		ip = a
	}
	return ip
}

// peerAddr is the address of the socket's peer (the zero Addr if
// r.RemoteAddr is not one).
func peerAddr(r *http.Request) netip.Addr {
	if peer, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return peer.Addr().Unmap()
	}
	if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}

// requestHost is the host (and port) the client addressed, which a DPoP
// proof's htu must name: r.Host, or, when the socket's peer is a trusted
// proxy (--trusted-proxy) that sends X-Forwarded-Host, that header's
// right-most value, the one the nearest proxy wrote (a proxy that
// rewrites Host for its upstream keeps the client's there). From anyone
// else X-Forwarded-Host is ignored, like X-Forwarded-For.
func (s *Server) requestHost(r *http.Request) string {
	if p := peerAddr(r); !p.IsValid() || !s.trusted(p) {
		return r.Host
	}
	vs := r.Header.Values("X-Forwarded-Host")
	if len(vs) == 0 {
		return r.Host
	}
	last := vs[len(vs)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	if h := strings.TrimSpace(last); h != "" {
		return h
	}
	return r.Host
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// locate is the approximate place of ip, from the configured Locator
// (none: the zero Location).
func (s *Server) locate(ip netip.Addr) api.Location {
	if s.cfg.Locator == nil || !ip.IsValid() {
		return api.Location{}
	}
	return s.cfg.Locator.Locate(ip)
}

func ipString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// addrKey is the unit rate limits count per address: the IPv4 address, or
// the /64 of an IPv6 one, since one IPv6 client (a home, a phone) is
// routinely given a whole /64 and could otherwise try from 2^64 addresses.
func addrKey(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "?"
	case a.Is4():
		return a.String()
	default:
		p, _ := a.Prefix(64)
		return p.String()
	}
}
