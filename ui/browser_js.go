//go:build js

package ui

// inBrowser: this is the web build. A browser tab keeps nothing once it
// closes (no keyring, no files), so nothing offers to remember a login or
// to clear app data there.
const inBrowser = true
