//go:build js

package platform

import "syscall/js"

// loadHostFacts describes the browser the web app runs in, from
// navigator.userAgentData where the browser has it (its platform is the
// one the person chose to share) and navigator.userAgent otherwise.
func loadHostFacts() hostFacts {
	nav := js.Global().Get("navigator")
	if nav.IsUndefined() {
		return browserFacts("", "")
	}
	ua, platform := "", ""
	if v := nav.Get("userAgent"); v.Type() == js.TypeString {
		ua = v.String()
	}
	if d := nav.Get("userAgentData"); d.Type() == js.TypeObject {
		if v := d.Get("platform"); v.Type() == js.TypeString {
			platform = v.String()
		}
	}
	return browserFacts(ua, platform)
}
