package ui

import (
	"fmt"
	"image/color"
	"math"
	"sort"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// WCAG 2.x contrast, computed here from the definitions: a colour's
// relative luminance is 0.2126 R + 0.7152 G + 0.0722 B over its linear
// (de-gamma'd sRGB) channels, and the contrast of two colours is
// (L_lighter + 0.05) / (L_darker + 0.05), from 1:1 to 21:1.

// linear turns one 8-bit sRGB channel into linear light, 0–1.
func linear(c8 uint8) float64 {
	c := float64(c8) / 255
	if c <= 0.04045 {
		return c / 12.92
	}
	return math.Pow((c+0.055)/1.055, 2.4)
}

// luminance is c's relative luminance; c must be opaque.
func luminance(c color.Color) float64 {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return 0.2126*linear(n.R) + 0.7152*linear(n.G) + 0.0722*linear(n.B)
}

// contrastRatio is the WCAG contrast of two opaque colours.
func contrastRatio(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// over is top drawn over the opaque colour under, as Fyne blends a
// button's fill with Focus or Hover and as a translucent rectangle is
// painted: straight alpha compositing of the sRGB values.
func over(under, top color.Color) color.Color {
	u := color.NRGBAModel.Convert(under).(color.NRGBA)
	t := color.NRGBAModel.Convert(top).(color.NRGBA)
	a := float64(t.A) / 255
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(y)*a + float64(x)*(1-a))) }
	return color.NRGBA{R: mix(u.R, t.R), G: mix(u.G, t.G), B: mix(u.B, t.B), A: 0xff}
}

func TestContrastMaths(t *testing.T) {
	black, white := color.NRGBA{A: 0xff}, color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
	for _, tc := range []struct {
		a, b color.Color
		want float64
	}{
		{black, white, 21},
		{white, white, 1},
		// The figures for Fyne's dark theme: low-importance text
		// #39393a on #171718, and the radio ring.
		{rgb(0x39393a), rgb(0x171718), 1.55},
		{rgb(0x767676), white, 4.54}, // the well-known lightest grey that passes on white
	} {
		if got := contrastRatio(tc.a, tc.b); math.Abs(got-tc.want) > 0.01 {
			t.Errorf("contrast(%v, %v) = %.3f, want %.2f", tc.a, tc.b, got, tc.want)
		}
	}
	if got := over(black, color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0x80}); got != (color.NRGBA{R: 0x80, G: 0x80, B: 0x80, A: 0xff}) {
		t.Errorf("half white over black = %v", got)
	}
}

// surface is a colour something is drawn on, named as in the report.
type surface struct {
	name string
	c    color.Color
}

// contrastPair is a foreground that must stand out from a surface.
type contrastPair struct {
	kind string // "text", "icon", "outline", "focus"
	fg   surface
	bg   surface
	min  float64
}

// themePairs lists, for variant v, every foreground colour against every
// surface Fyne (and this app) draws it on.
func themePairs(v fyne.ThemeVariant) []contrastPair {
	th := Theme()
	c := func(n fyne.ThemeColorName) surface { return surface{string(n), th.Color(n, v)} }
	on := func(base surface, top fyne.ThemeColorName) surface {
		return surface{base.name + "+" + string(top), over(base.c, th.Color(top, v))}
	}
	bg, overlay, menu, header, input := c(theme.ColorNameBackground), c(theme.ColorNameOverlayBackground),
		c(theme.ColorNameMenuBackground), c(theme.ColorNameHeaderBackground), c(theme.ColorNameInputBackground)
	button := c(theme.ColorNameButton)
	primary, danger, warning, success := c(theme.ColorNamePrimary), c(theme.ColorNameError), c(theme.ColorNameWarning), c(theme.ColorNameSuccess)
	focus, hover, selection := theme.ColorNameFocus, theme.ColorNameHover, theme.ColorNameSelection

	var pairs []contrastPair
	add := func(kind string, min float64, fgs []surface, bgs ...surface) {
		for _, f := range fgs {
			for _, b := range bgs {
				pairs = append(pairs, contrastPair{kind, f, b, min})
			}
		}
	}
	list := func(names ...fyne.ThemeColorName) []surface {
		out := make([]surface, len(names))
		for i, n := range names {
			out[i] = c(n)
		}
		return out
	}

	// Text on the page, dialogs, menus, headers, and rows that are hovered
	// (a focused list row is drawn hovered) or selected.
	pageText := list(theme.ColorNameForeground, theme.ColorNameDisabled, theme.ColorNameError, theme.ColorNameWarning,
		theme.ColorNameSuccess, theme.ColorNamePrimary, theme.ColorNameHyperlink)
	pages := []surface{bg, overlay, menu, header, on(bg, hover), on(overlay, hover), on(bg, selection), on(header, hover)}
	add("text", 4.5, pageText, pages...)
	// Text in fields, and selected text.
	add("text", 4.5, list(theme.ColorNameForeground, theme.ColorNamePlaceHolder, theme.ColorNameDisabled), input, on(input, selection))
	// Button labels on their fill, hovered and focused.
	fills := []struct {
		text fyne.ThemeColorName
		fill surface
	}{
		{theme.ColorNameForeground, button},
		{theme.ColorNameForegroundOnPrimary, primary},
		{theme.ColorNameForegroundOnError, danger},
		{theme.ColorNameForegroundOnWarning, warning},
		{theme.ColorNameForegroundOnSuccess, success},
	}
	for _, f := range fills {
		add("text", 4.5, list(f.text), f.fill, on(f.fill, hover), on(f.fill, focus))
	}
	// A low-importance button has no fill until hovered or focused, when
	// it takes Button's.
	add("text", 4.5, list(theme.ColorNameForeground), bg, overlay)

	// Icons: themed in Foreground (Error, Warning, Primary by importance)
	// on the page, in dialogs and on buttons.
	add("icon", 3, list(theme.ColorNameForeground, theme.ColorNameError, theme.ColorNameWarning, theme.ColorNamePrimary),
		bg, overlay, on(bg, hover))
	add("icon", 3, list(theme.ColorNameForeground), button, on(button, focus))

	// Control outlines: entry borders (Primary when focused), check and
	// radio rings (Primary when on), over the page or the focus disc.
	outlines := list(theme.ColorNameInputBorder, theme.ColorNamePrimary)
	add("outline", 3, outlines, bg, overlay, input, on(bg, focus), on(overlay, focus), on(bg, hover))

	// Focus: the focused control against what surrounds it. Buttons,
	// check and radio discs and this app's row rings blend Focus into
	// what they cover; a focused plain button must stand out from the page
	// and from its unfocused self.
	for _, around := range []surface{bg, overlay} {
		for _, under := range []surface{around, button} {
			pairs = append(pairs, contrastPair{"focus", on(under, focus), around, 3})
		}
	}
	pairs = append(pairs, contrastPair{"focus", on(button, focus), button, 3})
	return pairs
}

// TestThemeContrast checks every pair of themePairs in both variants: text
// at 4.5:1, icons, outlines and focus at 3:1 (WCAG 2.x 1.4.3, 1.4.11).
// Disabled controls are exempt in WCAG, but the low-importance labels
// draw Disabled too, so it is held to the text rule. It logs the lowest
// ratio of each kind.
func TestThemeContrast(t *testing.T) {
	for _, v := range []struct {
		name    string
		variant fyne.ThemeVariant
	}{{"dark", theme.VariantDark}, {"light", theme.VariantLight}} {
		t.Run(v.name, func(t *testing.T) {
			lowest := map[string]contrastPair{}
			ratio := map[string]float64{}
			for _, p := range themePairs(v.variant) {
				r := contrastRatio(p.fg.c, p.bg.c)
				if r < p.min {
					t.Errorf("%s %s on %s: %.2f:1, want at least %.1f:1", p.kind, p.fg.name, p.bg.name, r, p.min)
				}
				if old, ok := ratio[p.kind]; !ok || r < old {
					ratio[p.kind], lowest[p.kind] = r, p
				}
			}
			var kinds []string
			for k := range ratio {
				kinds = append(kinds, k)
			}
			sort.Strings(kinds)
			var b strings.Builder
			for _, k := range kinds {
				p := lowest[k]
				fmt.Fprintf(&b, "\n  %-8s lowest %.2f:1 (%s on %s)", k, ratio[k], p.fg.name, p.bg.name)
			}
			t.Logf("%s variant:%s", v.name, b.String())
		})
	}
}

// TestThemeIsComplete: every colour the default theme names comes from
// the palette, so a Fyne colour never slips in unchecked.
func TestThemeIsComplete(t *testing.T) {
	for _, n := range []fyne.ThemeColorName{
		theme.ColorNameBackground, theme.ColorNameButton, theme.ColorNameDisabledButton, theme.ColorNameDisabled,
		theme.ColorNameError, theme.ColorNameFocus, theme.ColorNameForeground, theme.ColorNameForegroundOnError,
		theme.ColorNameForegroundOnPrimary, theme.ColorNameForegroundOnSuccess, theme.ColorNameForegroundOnWarning,
		theme.ColorNameHeaderBackground, theme.ColorNameHover, theme.ColorNameHyperlink, theme.ColorNameInputBackground,
		theme.ColorNameInputBorder, theme.ColorNameMenuBackground, theme.ColorNameOverlayBackground,
		theme.ColorNamePlaceHolder, theme.ColorNamePressed, theme.ColorNamePrimary, theme.ColorNameScrollBar,
		theme.ColorNameScrollBarBackground, theme.ColorNameSelection, theme.ColorNameSeparator, theme.ColorNameShadow,
		theme.ColorNameSuccess, theme.ColorNameWarning,
	} {
		for _, p := range []map[fyne.ThemeColorName]color.Color{darkPalette, lightPalette} {
			if _, ok := p[n]; !ok {
				t.Errorf("the palette lacks %s", n)
			}
		}
	}
}
