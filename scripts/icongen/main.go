// Command icongen draws Sessionguard's application icon: a rounded-square
// tile with an indigo-to-blue gradient carrying a white shield, and inside the
// shield a short device list whose top entry is checked in teal ("this
// session is yours and safe").
//
// Regenerate the icon at the repository root with:
//
//	go run ./scripts/icongen -o Icon.png
//
// It uses only the standard library. Every shape is sampled on a grid four
// times finer than the output in each direction (16 samples per pixel) and
// averaged down, so edges are anti-aliased at any -size.
package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"sort"
)

// ss is the supersampling factor per axis.
const ss = 4

// The design is laid out on a 512×512 grid; -size scales it.
const design = 512.0

type pt struct{ x, y float64 }

// canvas holds straight (non-premultiplied) sRGB colour and alpha as 0..1 floats.
type canvas struct {
	n          int
	r, g, b, a []float64
}

func newCanvas(n int) *canvas {
	return &canvas{n: n, r: make([]float64, n*n), g: make([]float64, n*n), b: make([]float64, n*n), a: make([]float64, n*n)}
}

// mask is per-pixel coverage 0..1 at output resolution.
type mask []float64

// shader gives the colour (sRGB 0..1) and opacity of a layer at a point in
// design units.
type shader func(x, y float64) (r, g, b, a float64)

func solid(c color.NRGBA) shader {
	r, g, b, a := float64(c.R)/255, float64(c.G)/255, float64(c.B)/255, float64(c.A)/255
	return func(float64, float64) (float64, float64, float64, float64) { return r, g, b, a }
}

func hex(s string) color.NRGBA {
	var r, g, b uint8
	if _, err := fmt.Sscanf(s, "#%02x%02x%02x", &r, &g, &b); err != nil {
		panic(err)
	}
	return color.NRGBA{r, g, b, 255}
}

func lerp(a, b, t float64) float64 { return a + (b-a)*t }

func clamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }

func smoothstep(e0, e1, x float64) float64 {
	t := clamp01((x - e0) / (e1 - e0))
	return t * t * (3 - 2*t)
}

// over composites shader s through coverage m onto c (Porter-Duff over).
func (c *canvas) over(m mask, s shader) {
	scale := design / float64(c.n)
	for y := 0; y < c.n; y++ {
		for x := 0; x < c.n; x++ {
			i := y*c.n + x
			cov := m[i]
			if cov <= 0 {
				continue
			}
			sr, sg, sb, sa := s((float64(x)+0.5)*scale, (float64(y)+0.5)*scale)
			sa *= cov
			da := c.a[i]
			oa := sa + da*(1-sa)
			if oa <= 0 {
				continue
			}
			c.r[i] = (sr*sa + c.r[i]*da*(1-sa)) / oa
			c.g[i] = (sg*sa + c.g[i]*da*(1-sa)) / oa
			c.b[i] = (sb*sa + c.b[i]*da*(1-sa)) / oa
			c.a[i] = oa
		}
	}
}

func (c *canvas) image() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, c.n, c.n))
	q := func(v float64) uint8 { return uint8(math.Round(clamp01(v) * 255)) }
	for i := range c.a {
		img.Pix[4*i+0] = q(c.r[i])
		img.Pix[4*i+1] = q(c.g[i])
		img.Pix[4*i+2] = q(c.b[i])
		img.Pix[4*i+3] = q(c.a[i])
	}
	return img
}

// predicateMask samples inside(x, y) (design units) ss×ss times per pixel.
func predicateMask(n int, inside func(x, y float64) bool) mask {
	m := make(mask, n*n)
	step := design / float64(n*ss)
	for py := 0; py < n; py++ {
		for px := 0; px < n; px++ {
			hits := 0
			for sy := 0; sy < ss; sy++ {
				y := (float64(py*ss+sy) + 0.5) * step
				for sx := 0; sx < ss; sx++ {
					if inside((float64(px*ss+sx)+0.5)*step, y) {
						hits++
					}
				}
			}
			m[py*n+px] = float64(hits) / (ss * ss)
		}
	}
	return m
}

// polygonMask fills closed polygons (design units, nonzero winding) by
// scanlines on the supersampled grid.
func polygonMask(n int, polys ...[]pt) mask {
	m := make(mask, n*n)
	N := n * ss
	step := design / float64(N)
	type xing struct {
		x   float64
		dir int
	}
	var xs []xing
	for sy := 0; sy < N; sy++ {
		y := (float64(sy) + 0.5) * step
		xs = xs[:0]
		for _, p := range polys {
			for i := range p {
				a, b := p[i], p[(i+1)%len(p)]
				if (a.y <= y) == (b.y <= y) {
					continue
				}
				dir := 1
				if b.y < a.y {
					dir = -1
				}
				xs = append(xs, xing{a.x + (y-a.y)/(b.y-a.y)*(b.x-a.x), dir})
			}
		}
		sort.Slice(xs, func(i, j int) bool { return xs[i].x < xs[j].x })
		wind := 0
		for i := 0; i+1 < len(xs); i++ {
			wind += xs[i].dir
			if wind == 0 {
				continue
			}
			// Sample centres (sx+0.5)*step inside [xs[i].x, xs[i+1].x).
			x0 := int(math.Ceil(xs[i].x/step - 0.5))
			x1 := int(math.Ceil(xs[i+1].x/step - 0.5))
			for sx := max(x0, 0); sx < min(x1, N); sx++ {
				m[(sy/ss)*n+sx/ss] += 1.0 / (ss * ss)
			}
		}
	}
	return m
}

// path builds a polygon from lines and Bézier curves.
type path struct{ pts []pt }

func (p *path) moveTo(x, y float64) { p.pts = append(p.pts, pt{x, y}) }
func (p *path) lineTo(x, y float64) { p.pts = append(p.pts, pt{x, y}) }

func (p *path) cubicTo(c1x, c1y, c2x, c2y, x, y float64) {
	p0 := p.pts[len(p.pts)-1]
	const steps = 48
	for i := 1; i <= steps; i++ {
		t := float64(i) / steps
		u := 1 - t
		p.pts = append(p.pts, pt{
			u*u*u*p0.x + 3*u*u*t*c1x + 3*u*t*t*c2x + t*t*t*x,
			u*u*u*p0.y + 3*u*u*t*c1y + 3*u*t*t*c2y + t*t*t*y,
		})
	}
}

func (p *path) quadTo(cx, cy, x, y float64) {
	p0 := p.pts[len(p.pts)-1]
	p.cubicTo(p0.x+2.0/3*(cx-p0.x), p0.y+2.0/3*(cy-p0.y), x+2.0/3*(cx-x), y+2.0/3*(cy-y), x, y)
}

// mirrored returns the right half path (from the top centre clockwise to the
// bottom centre) closed with its mirror image about x = cx.
func mirrored(right []pt, cx float64) []pt {
	out := append([]pt(nil), right...)
	for i := len(right) - 2; i > 0; i-- {
		out = append(out, pt{2*cx - right[i].x, right[i].y})
	}
	return out
}

// superellipse: |x|^e + |y|^e <= 1, a squircle-like tile.
func insideSquircle(cx, cy, half, e float64) func(x, y float64) bool {
	return func(x, y float64) bool {
		dx, dy := math.Abs(x-cx)/half, math.Abs(y-cy)/half
		return math.Pow(dx, e)+math.Pow(dy, e) <= 1
	}
}

func insideCircle(cx, cy, r float64) func(x, y float64) bool {
	return func(x, y float64) bool { return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r }
}

// insideCapsule: within r of the segment a–b (a pill or a round-capped stroke).
func insideCapsule(a, b pt, r float64) func(x, y float64) bool {
	dx, dy := b.x-a.x, b.y-a.y
	l2 := dx*dx + dy*dy
	return func(x, y float64) bool {
		t := 0.0
		if l2 > 0 {
			t = clamp01(((x-a.x)*dx + (y-a.y)*dy) / l2)
		}
		ex, ey := x-(a.x+t*dx), y-(a.y+t*dy)
		return ex*ex+ey*ey <= r*r
	}
}

func union(fs ...func(x, y float64) bool) func(x, y float64) bool {
	return func(x, y float64) bool {
		for _, f := range fs {
			if f(x, y) {
				return true
			}
		}
		return false
	}
}

// shift moves a mask by (dx, dy) pixels, filling with zero.
func shift(m mask, n, dx, dy int) mask {
	out := make(mask, n*n)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			sx, sy := x-dx, y-dy
			if sx >= 0 && sy >= 0 && sx < n && sy < n {
				out[y*n+x] = m[sy*n+sx]
			}
		}
	}
	return out
}

// blur approximates a Gaussian with three box blurs of radius r pixels.
func blur(m mask, n, r int) mask {
	if r < 1 {
		return m
	}
	cur := append(mask(nil), m...)
	tmp := make(mask, n*n)
	for pass := 0; pass < 3; pass++ {
		for y := 0; y < n; y++ { // horizontal
			for x := 0; x < n; x++ {
				s, c := 0.0, 0
				for k := -r; k <= r; k++ {
					if xx := x + k; xx >= 0 && xx < n {
						s += cur[y*n+xx]
					}
					c++
				}
				tmp[y*n+x] = s / float64(c)
			}
		}
		for y := 0; y < n; y++ { // vertical
			for x := 0; x < n; x++ {
				s, c := 0.0, 0
				for k := -r; k <= r; k++ {
					if yy := y + k; yy >= 0 && yy < n {
						s += tmp[yy*n+x]
					}
					c++
				}
				cur[y*n+x] = s / float64(c)
			}
		}
	}
	return cur
}

func mul(a, b mask) mask {
	out := make(mask, len(a))
	for i := range a {
		out[i] = a[i] * b[i]
	}
	return out
}

// Palette.
var (
	indigoTop   = hex("#2a1b78") // deep indigo
	indigoMid   = hex("#3b35b8")
	blueBottom  = hex("#1f7cf0") // bright blue
	shieldWhite = hex("#ffffff")
	shieldShade = hex("#e4e9fb")
	teal        = hex("#14c2a3")
	tealDark    = hex("#0e9f88")
	slate       = hex("#b3bde6")
	shadowInk   = hex("#0b0a3a")
)

func mix(a, b color.NRGBA, t float64) (float64, float64, float64) {
	return lerp(float64(a.R), float64(b.R), t) / 255,
		lerp(float64(a.G), float64(b.G), t) / 255,
		lerp(float64(a.B), float64(b.B), t) / 255
}

func draw(n int) *image.NRGBA {
	c := newCanvas(n)
	px := float64(n) / design // pixels per design unit

	// Tile: a squircle with a small margin, as desktop icon sets expect.
	const tileC, tileHalf = 256.0, 236.0
	tileTop, tileBot := tileC-tileHalf, tileC+tileHalf
	tile := predicateMask(n, insideSquircle(tileC, tileC, tileHalf, 5))
	c.over(tile, func(x, y float64) (float64, float64, float64, float64) {
		t := clamp01((y - tileTop) / (tileBot - tileTop))
		var r, g, b float64
		if t < 0.45 {
			r, g, b = mix(indigoTop, indigoMid, smoothstep(0, 0.45, t))
		} else {
			r, g, b = mix(indigoMid, blueBottom, smoothstep(0.45, 1, t))
		}
		// A soft light from the top left gives the tile some depth.
		d := math.Hypot(x-150, y-60) / 360
		glow := 0.10 * (1 - smoothstep(0, 1, d))
		return r + glow, g + glow, b + glow, 1
	})

	// Shield, built as its right half and mirrored about the centre line.
	const cx = 256.0
	var s path
	s.moveTo(cx, 100)
	s.cubicTo(cx+40, 128, cx+92, 140, cx+128, 142) // crest sweeping to the shoulder
	s.quadTo(cx+142, 143, cx+142, 158)             // rounded shoulder
	s.lineTo(cx+142, 250)
	s.cubicTo(cx+142, 340, cx+80, 396, cx+8, 424) // side curving towards the tip
	s.lineTo(cx, 427)                             // a blunted tip
	shield := mirrored(s.pts, cx)
	shieldMask := polygonMask(n, shield)

	// Drop shadow under the shield, kept inside the tile.
	shadow := blur(shift(shieldMask, n, 0, int(math.Round(10*px))), n, int(math.Round(9*px)))
	ink := shadowInk
	ink.A = 115 // 45 %
	c.over(mul(shadow, tile), solid(ink))

	// Shield body: white, shading to a cool tint at the tip.
	c.over(shieldMask, func(_, y float64) (float64, float64, float64, float64) {
		r, g, b := mix(shieldWhite, shieldShade, smoothstep(150, 430, y))
		return r, g, b, 1
	})

	// Device list: three rows, each a status dot and a bar.
	const (
		rowX    = 199.0 // dot centre
		barX0   = 240.0 // bar start (cap centre)
		barR    = 11.5  // bar half height
		dotR    = 14.5
		topDotR = 25.0
	)
	rows := []struct {
		y, x1 float64
	}{{198, 324}, {256, 318}, {312, 292}}

	// Top row: this session, checked in teal.
	top := rows[0]
	c.over(predicateMask(n, insideCapsule(pt{barX0 + 6, top.y}, pt{top.x1, top.y}, barR+1)), solid(teal))
	c.over(predicateMask(n, insideCircle(rowX, top.y, topDotR)), func(_, y float64) (float64, float64, float64, float64) {
		r, g, b := mix(teal, tealDark, smoothstep(top.y-topDotR, top.y+topDotR, y))
		return r, g, b, 1
	})
	const tick = 4.8
	check := union(
		insideCapsule(pt{rowX - 10, top.y + 1}, pt{rowX - 3, top.y + 8}, tick),
		insideCapsule(pt{rowX - 3, top.y + 8}, pt{rowX + 11, top.y - 8}, tick),
	)
	c.over(predicateMask(n, check), solid(shieldWhite))

	// Other devices: quiet slate rows.
	for _, r := range rows[1:] {
		c.over(predicateMask(n, insideCircle(rowX, r.y, dotR)), solid(slate))
		c.over(predicateMask(n, insideCapsule(pt{barX0, r.y}, pt{r.x1, r.y}, barR)), solid(slate))
	}
	return c.image()
}

func main() {
	out := flag.String("o", "Icon.png", "output PNG file")
	size := flag.Int("size", 512, "width and height in pixels")
	flag.Parse()
	if *size < 16 || *size > 4096 {
		fmt.Fprintln(os.Stderr, "icongen: -size must be between 16 and 4096")
		os.Exit(2)
	}
	f, err := os.Create(*out)
	if err == nil {
		err = png.Encode(f, draw(*size))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "icongen:", err)
		os.Exit(1)
	}
}
