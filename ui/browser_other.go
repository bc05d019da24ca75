//go:build !js

package ui

// inBrowser: this is the web build (see browser_js.go); here it is not.
const inBrowser = false
