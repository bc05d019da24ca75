package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// Device icons Fyne's theme lacks, drawn for Sessionguard as 24×24 SVGs in
// the theme's foreground colour.
var (
	iconPhone = theme.NewThemedResource(fyne.NewStaticResource("phone.svg", []byte(
		`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="#000" d="M8 1.5h8a2.5 2.5 0 0 1 2.5 2.5v16a2.5 2.5 0 0 1-2.5 2.5H8A2.5 2.5 0 0 1 5.5 20V4A2.5 2.5 0 0 1 8 1.5zm0 2a.5.5 0 0 0-.5.5v16a.5.5 0 0 0 .5.5h8a.5.5 0 0 0 .5-.5V4a.5.5 0 0 0-.5-.5h-1.2l-.4.8a1 1 0 0 1-.9.5h-2a1 1 0 0 1-.9-.5l-.4-.8zm2.5 14.5h3a.75.75 0 0 1 0 1.5h-3a.75.75 0 0 1 0-1.5z"/></svg>`)))
	iconTablet = theme.NewThemedResource(fyne.NewStaticResource("tablet.svg", []byte(
		`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="#000" d="M6 2h12a2.5 2.5 0 0 1 2.5 2.5v15A2.5 2.5 0 0 1 18 22H6a2.5 2.5 0 0 1-2.5-2.5v-15A2.5 2.5 0 0 1 6 2zm0 2a.5.5 0 0 0-.5.5v15a.5.5 0 0 0 .5.5h12a.5.5 0 0 0 .5-.5v-15A.5.5 0 0 0 18 4zm4.5 13h3a.75.75 0 0 1 0 1.5h-3a.75.75 0 0 1 0-1.5z"/></svg>`)))
	iconLaptop = theme.NewThemedResource(fyne.NewStaticResource("laptop.svg", []byte(
		`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="#000" d="M5.5 4h13A2.5 2.5 0 0 1 21 6.5V16h1.25a.75.75 0 0 1 .75.75v.75A2.5 2.5 0 0 1 20.5 20h-17A2.5 2.5 0 0 1 1 17.5v-.75a.75.75 0 0 1 .75-.75H3V6.5A2.5 2.5 0 0 1 5.5 4zm0 2a.5.5 0 0 0-.5.5V16h14V6.5a.5.5 0 0 0-.5-.5zM9 17v.25c0 .4.35.75.75.75h4.5c.4 0 .75-.35.75-.75V17z"/></svg>`)))
	// iconBrowser is a browser window (a tab bar with its three dots):
	// the web app, and any session a browser holds.
	iconBrowser = theme.NewThemedResource(fyne.NewStaticResource("browser.svg", []byte(
		`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="#000" fill-rule="evenodd" d="M4.5 3.5h15A2.5 2.5 0 0 1 22 6v12a2.5 2.5 0 0 1-2.5 2.5h-15A2.5 2.5 0 0 1 2 18V6a2.5 2.5 0 0 1 2.5-2.5zM4 9v9a.5.5 0 0 0 .5.5h15a.5.5 0 0 0 .5-.5V9zM4.6 6.25a.9.9 0 1 0 1.8 0a.9.9 0 1 0-1.8 0zM7.1 6.25a.9.9 0 1 0 1.8 0a.9.9 0 1 0-1.8 0zM9.6 6.25a.9.9 0 1 0 1.8 0a.9.9 0 1 0-1.8 0z"/></svg>`)))
)
