// Package browser joins the web build of Sessionguard (GOOS=js) to the
// page that loaded it: the origin it was served from, which is its
// server, and a text copy of the screen for screen readers.
package browser
