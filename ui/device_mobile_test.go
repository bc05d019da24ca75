//go:build mobile

package ui

// phoneBuild: built with Fyne's mobile tag (make mobile-ui-test), so the
// test driver's device is a phone.
const phoneBuild = true
