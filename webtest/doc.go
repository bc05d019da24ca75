// Package webtest is the end-to-end test of Sessionguard in a browser: the
// app built for the web (make web, into web/dist) served by the real
// `sessiond serve --web-dir`, driven from the keyboard in headless
// Chromium at desktop (1280×800) and phone (440×760) sizes.
//
// The app draws on a canvas, so the test reads what it shows from the
// page's text copy of the screen (#screen-text and its data-focus) and
// from the page's phase attributes (data-phase, data-app). It signs in,
// opens Login activity, logs another device out (confirming the password),
// and checks that the page keeps nothing once the session is over: no
// storage, no cookies. It fails on any Content-Security-Policy violation
// or uncaught exception, and writes screenshots and the load figures to
// build/web/.
//
// Run it with `make webtest` (after `make web`), or
//
//	SESSIONGUARD_REQUIRE_BROWSER=1 go test -count=1 -v ./webtest
//
// Without Chromium (/usr/bin/chromium, scripts/deps.sh browser) or
// web/dist the test skips, unless SESSIONGUARD_REQUIRE_BROWSER=1 makes
// that a failure.
//
// Only the tests import chromedp: nothing of it is linked into the app or
// sessiond.
package webtest
