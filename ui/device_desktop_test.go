//go:build !mobile

package ui

// phoneBuild: built without Fyne's mobile tag, so the test driver's
// device is a desktop.
const phoneBuild = false
