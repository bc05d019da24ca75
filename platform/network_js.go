//go:build js

package platform

import "syscall/js"

// NetworkUp reports whether the browser says it is online
// (navigator.onLine): false means certainly offline; true may still be a
// network that reaches nothing.
func NetworkUp() bool {
	nav := js.Global().Get("navigator")
	if nav.IsUndefined() || nav.Get("onLine").IsUndefined() {
		return true
	}
	return nav.Get("onLine").Bool()
}
