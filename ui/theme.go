package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// Theme is Sessionguard's look: Fyne's fonts, icons and sizes with colours
// chosen so that every text reads at 4.5:1 or more, and every icon, focus
// indicator and control outline stands out at 3:1 or more, against what it
// is drawn on, in the dark and the light variant (theme_test.go checks
// every pair). main sets it on the app; tests set it on the test app.
func Theme() fyne.Theme { return sgTheme{} }

// sgTheme is Theme: a palette per variant over the default theme.
type sgTheme struct{}

// Color is the palette's colour for name in variant v, else the default
// theme's.
func (sgTheme) Color(name fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	p := darkPalette
	if v == theme.VariantLight {
		p = lightPalette
	}
	if c, ok := p[name]; ok {
		return c
	}
	return theme.DefaultTheme().Color(name, v)
}

// Font is the default theme's font.
func (sgTheme) Font(s fyne.TextStyle) fyne.Resource { return theme.DefaultTheme().Font(s) }

// Icon is the default theme's icon.
func (sgTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return theme.DefaultTheme().Icon(n) }

// Size is the default theme's size.
func (sgTheme) Size(n fyne.ThemeSizeName) float32 { return theme.DefaultTheme().Size(n) }

func rgb(hex uint32) color.NRGBA {
	return color.NRGBA{R: uint8(hex >> 16), G: uint8(hex >> 8), B: uint8(hex), A: 0xff}
}

func rgba(hex uint32, alpha uint8) color.NRGBA {
	c := rgb(hex)
	c.A = alpha
	return c
}

// How Fyne uses the colours, which decides the pairs that must contrast:
//   - Labels draw Foreground, and by importance Disabled (low importance,
//     so it is body text here, not only disabled text), Error, Warning,
//     Success and Primary, on Background, dialogs (OverlayBackground),
//     menus, list headers and hovered or selected rows.
//   - Buttons fill with Button (Primary, Error, Warning, Success by
//     importance) and write Foreground (ForegroundOn…) on it; focused, the
//     fill is blended with Focus, hovered with Hover. So Focus lightens
//     (dark) or darkens (light) whatever it covers, and every button text
//     keeps its contrast on the blend.
//   - Entries: Foreground and PlaceHolder on InputBackground, bordered by
//     InputBorder (Primary when focused), selected text on Selection.
//   - Checks and radios: an InputBorder ring (Primary when on) on the
//     background, over a Focus (or Hover) disc when focused.
var (
	darkPalette = map[fyne.ThemeColorName]color.Color{
		theme.ColorNameBackground:          rgb(0x0f1012),
		theme.ColorNameHeaderBackground:    rgb(0x16171a),
		theme.ColorNameOverlayBackground:   rgb(0x1a1b1f),
		theme.ColorNameMenuBackground:      rgb(0x1a1b1f),
		theme.ColorNameInputBackground:     rgb(0x17181b),
		theme.ColorNameButton:              rgb(0x202126),
		theme.ColorNameDisabledButton:      rgb(0x1b1c20),
		theme.ColorNameForeground:          rgb(0xf4f4f6),
		theme.ColorNameDisabled:            rgb(0xa8abb3),
		theme.ColorNamePlaceHolder:         rgb(0xa4a7af),
		theme.ColorNamePrimary:             rgb(0xa6c6ff),
		theme.ColorNameHyperlink:           rgb(0xaccaff),
		theme.ColorNameForegroundOnPrimary: rgb(0x0b0c0e),
		theme.ColorNameError:               rgb(0xff8a80),
		theme.ColorNameForegroundOnError:   rgb(0x0e0b0b),
		theme.ColorNameWarning:             rgb(0xf5b94f),
		theme.ColorNameForegroundOnWarning: rgb(0x0e0d0a),
		theme.ColorNameSuccess:             rgb(0x6fd68a),
		theme.ColorNameForegroundOnSuccess: rgb(0x0a0e0b),
		theme.ColorNameInputBorder:         rgb(0xc6c9d0),
		theme.ColorNameFocus:               rgba(0xffffff, 0x58),
		theme.ColorNameHover:               rgba(0xffffff, 0x14),
		theme.ColorNamePressed:             rgba(0xffffff, 0x40),
		theme.ColorNameSelection:           rgba(0xa6c6ff, 0x30),
		theme.ColorNameSeparator:           rgb(0x2e3036),
		theme.ColorNameScrollBar:           rgba(0xffffff, 0x99),
		theme.ColorNameScrollBarBackground: rgb(0x17181b),
		theme.ColorNameShadow:              rgba(0x000000, 0x99),
	}
	lightPalette = map[fyne.ThemeColorName]color.Color{
		theme.ColorNameBackground:          rgb(0xffffff),
		theme.ColorNameHeaderBackground:    rgb(0xf6f7f9),
		theme.ColorNameOverlayBackground:   rgb(0xffffff),
		theme.ColorNameMenuBackground:      rgb(0xffffff),
		theme.ColorNameInputBackground:     rgb(0xf5f6f8),
		theme.ColorNameButton:              rgb(0xe9eaee),
		theme.ColorNameDisabledButton:      rgb(0xf0f1f3),
		theme.ColorNameForeground:          rgb(0x141518),
		theme.ColorNameDisabled:            rgb(0x595c63),
		theme.ColorNamePlaceHolder:         rgb(0x5d6067),
		theme.ColorNamePrimary:             rgb(0x0a3583),
		theme.ColorNameHyperlink:           rgb(0x0b3788),
		theme.ColorNameForegroundOnPrimary: rgb(0xffffff),
		theme.ColorNameError:               rgb(0xb3261e),
		theme.ColorNameForegroundOnError:   rgb(0xffffff),
		theme.ColorNameWarning:             rgb(0x8a5300),
		theme.ColorNameForegroundOnWarning: rgb(0xffffff),
		theme.ColorNameSuccess:             rgb(0x1a7031),
		theme.ColorNameForegroundOnSuccess: rgb(0xffffff),
		theme.ColorNameInputBorder:         rgb(0x3b3d43),
		theme.ColorNameFocus:               rgba(0x000000, 0x73),
		theme.ColorNameHover:               rgba(0x000000, 0x0f),
		theme.ColorNamePressed:             rgba(0x000000, 0x26),
		theme.ColorNameSelection:           rgba(0x0a3583, 0x1c),
		theme.ColorNameSeparator:           rgb(0xdcdee3),
		theme.ColorNameScrollBar:           rgba(0x000000, 0x99),
		theme.ColorNameScrollBarBackground: rgb(0xeceef1),
		theme.ColorNameShadow:              rgba(0x000000, 0x40),
	}
)
