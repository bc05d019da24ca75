package web

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

// fakeWasm is a small, compressible stand-in for the app's module.
func fakeWasm() []byte {
	return append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte("sessionguard wasm body "), 2000)...)
}

// inputs writes the packer's inputs into a temporary folder: a fake wasm
// and wasm_exec.js, the repository's icon, and a copy of web/static (the
// real page template, so its asset names are checked too). It returns a
// PackConfig for them.
func inputs(t *testing.T) PackConfig {
	t.Helper()
	dir := t.TempDir()
	cfg := PackConfig{
		Wasm:     filepath.Join(dir, "app.wasm"),
		WasmExec: filepath.Join(dir, "wasm_exec.js"),
		Static:   filepath.Join(dir, "static"),
		Icon:     filepath.Join("..", "Icon.png"),
	}
	must(t, os.WriteFile(cfg.Wasm, fakeWasm(), 0o644))
	must(t, os.WriteFile(cfg.WasmExec, []byte("\"use strict\";\n"+strings.Repeat("// Go's wasm_exec.js stand-in\n", 20)+"globalThis.Go = class {};\n"), 0o644))
	must(t, os.CopyFS(cfg.Static, os.DirFS("static")))
	return cfg
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// packed packs the inputs into a new temporary folder and returns it
// with the manifest.
func packed(t *testing.T) (string, *Manifest) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "dist")
	m, err := Pack(inputs(t), out)
	if err != nil {
		t.Fatal(err)
	}
	return out, m
}

// tree reads every file under dir: relative slash path → bytes.
func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	must(t, fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(os.DirFS(dir), p)
		files[p] = b
		return err
	}))
	return files
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	must(t, err)
	out, err := io.ReadAll(r)
	must(t, err)
	return out
}

func unbrotli(t *testing.T, b []byte) []byte {
	t.Helper()
	out, err := io.ReadAll(brotli.NewReader(bytes.NewReader(b)))
	must(t, err)
	return out
}

func TestPack(t *testing.T) {
	out, m := packed(t)
	files := tree(t, out)

	// Every asset is named by its content; the page keeps its name.
	wantPaths := map[string]*regexp.Regexp{
		"sessionguard.wasm": regexp.MustCompile(`^/assets/sessionguard\.[0-9a-f]{12}\.wasm$`),
		"wasm_exec.js":      regexp.MustCompile(`^/assets/wasm_exec\.[0-9a-f]{12}\.js$`),
		"boot.js":           regexp.MustCompile(`^/assets/boot\.[0-9a-f]{12}\.js$`),
		"style.css":         regexp.MustCompile(`^/assets/style\.[0-9a-f]{12}\.css$`),
		"icon.png":          regexp.MustCompile(`^/assets/icon\.[0-9a-f]{12}\.png$`),
		"index":             regexp.MustCompile(`^/(index\.html)?$`),
	}
	found := map[string]int{}
	for p := range m.Files {
		for name, re := range wantPaths {
			if re.MatchString(p) {
				found[name]++
			}
		}
	}
	for name := range wantPaths {
		want := 1
		if name == "index" {
			want = 2 // "/" and "/index.html"
		}
		if found[name] != want {
			t.Errorf("%d served paths for %s, want %d (manifest: %v)", found[name], name, want, m.Files)
		}
	}
	if len(m.Files) != 7 {
		t.Errorf("manifest lists %d paths, want 7", len(m.Files))
	}

	types := map[string]string{".wasm": "application/wasm", ".js": "text/javascript; charset=utf-8",
		".css": "text/css; charset=utf-8", ".png": "image/png", ".html": "text/html; charset=utf-8"}
	for p, e := range m.Files {
		raw, ok := files[e.File]
		if !ok {
			t.Fatalf("%s: no file %s", p, e.File)
		}
		if hashOf(raw) != e.SHA256 || int64(len(raw)) != e.Size {
			t.Errorf("%s: sha256 %s size %d, manifest %s %d", p, hashOf(raw), len(raw), e.SHA256, e.Size)
		}
		if e.Immutable && !strings.Contains(p, "."+e.SHA256[:hashLen]+".") {
			t.Errorf("%s: an immutable name without its hash %s", p, e.SHA256[:hashLen])
		}
		if e.Immutable == (e.File == "index.html") {
			t.Errorf("%s: immutable %v", p, e.Immutable)
		}
		if want := types[filepath.Ext(e.File)]; e.ContentType != want {
			t.Errorf("%s: content type %q, want %q", p, e.ContentType, want)
		}
		gz, br := files[e.File+".gz"], files[e.File+".br"]
		if e.ContentType == "image/png" {
			if gz != nil || br != nil || e.GzipSize != 0 || e.BrotliSize != 0 {
				t.Errorf("%s: a PNG compressed again", p)
			}
			continue
		}
		if gz == nil || br == nil || int64(len(gz)) != e.GzipSize || int64(len(br)) != e.BrotliSize {
			t.Fatalf("%s: .gz %d bytes, .br %d; manifest %d, %d", p, len(gz), len(br), e.GzipSize, e.BrotliSize)
		}
		if !bytes.Equal(gunzip(t, gz), raw) || !bytes.Equal(unbrotli(t, br), raw) {
			t.Errorf("%s: a compressed copy does not decompress to the file", p)
		}
		if len(br) >= len(raw) || len(gz) >= len(raw) {
			t.Errorf("%s: compressed copies no smaller than the file", p)
		}
	}
	if wp, e, ok := m.Wasm(); !ok || !bytes.Equal(files[e.File], fakeWasm()) || !strings.HasPrefix(wp, "/assets/") {
		t.Errorf("Manifest.Wasm() = %s %+v %v", wp, e, ok)
	}

	// manifest.json on disk is the manifest returned.
	var onDisk Manifest
	must(t, json.Unmarshal(files[ManifestName], &onDisk))
	if onDisk.Version != ManifestVersion || len(onDisk.Files) != len(m.Files) || onDisk.Files["/"] != m.Files["/"] {
		t.Errorf("manifest.json = %+v, Pack returned %+v", onDisk, m)
	}
	if string(files[placeholderName]) != Placeholder {
		t.Errorf("README.md = %q", files[placeholderName])
	}
	// Nothing else: every file is listed, a copy of one, the manifest or the placeholder.
	for rel := range files {
		base := strings.TrimSuffix(strings.TrimSuffix(rel, ".gz"), ".br")
		if _, ok := m.Files["/"+base]; !ok && rel != ManifestName && rel != placeholderName {
			t.Errorf("unlisted file %s", rel)
		}
	}
}

// TestPackPage: the rendered page refers only to files the site serves,
// has what the Fyne web driver and boot.js need, and nothing a strict
// Content-Security-Policy would block.
func TestPackPage(t *testing.T) {
	out, m := packed(t)
	page := string(tree(t, out)["index.html"])
	refs := regexp.MustCompile(`(?:src|href|data-wasm)="([^"]*)"`).FindAllStringSubmatch(page, -1)
	if len(refs) != 6 { // icon twice, stylesheet, two scripts, the wasm
		t.Errorf("%d references in the page, want 6:\n%s", len(refs), page)
	}
	for _, r := range refs {
		if e, ok := m.Files[r[1]]; !ok || !e.Immutable {
			t.Errorf("the page refers to %q, which the site does not serve as an asset", r[1])
		}
	}
	for _, tc := range []struct {
		name string
		re   string
		want bool
	}{
		{"doctype first", `^<!DOCTYPE html>\n`, true},
		{"charset", `<meta charset="utf-8">`, true},
		{"viewport", `<meta name="viewport" content="width=device-width, initial-scale=1">`, true},
		{"title", `<title>Sessionguard</title>`, true},
		{"icon", `<link rel="icon" type="image/png" href="/assets/icon\.[0-9a-f]{12}\.png">`, true},
		{"stylesheet", `<link rel="stylesheet" href="/assets/style\.[0-9a-f]{12}\.css">`, true},
		{"wasm_exec.js", `<script defer src="/assets/wasm_exec\.[0-9a-f]{12}\.js"></script>`, true},
		{"boot.js with the wasm", `<script defer src="/assets/boot\.[0-9a-f]{12}\.js" data-wasm="/assets/sessionguard\.[0-9a-f]{12}\.wasm"></script>`, true},
		{"dummyEntry", `<input id="dummyEntry" aria-hidden="true" tabindex="-1">`, true},
		{"screen text", `<div id="screen-text" role="status" aria-live="polite" class="visually-hidden"></div>`, true},
		{"loading view", `<div id="loading">[\s\S]*Loading Sessionguard…`, true},
		{"load error", `<p id="load-error" role="alert" hidden></p>`, true},
		{"noscript", `<noscript>[^<]*<p>[^<]*JavaScript`, true},
		{"template comment left out", `\{\{|\*/|asset "`, false},
		{"style element", `<style`, false},
		{"style attribute", `\sstyle=`, false},
		{"event handler attribute", `\son[a-z]+=`, false},
		{"javascript: URL", `javascript:`, false},
	} {
		if got := regexp.MustCompile(tc.re).MatchString(page); got != tc.want {
			t.Errorf("%s: %q matches: %v, want %v\n%s", tc.name, tc.re, got, tc.want, page)
		}
	}
	// Every script is a file: a src and an empty body.
	scripts := regexp.MustCompile(`<script([^>]*)>([^<]*)</script>`).FindAllStringSubmatch(page, -1)
	if len(scripts) != 2 || strings.Count(page, "<script") != len(scripts) {
		t.Errorf("%d <script> elements, %d well-formed; want 2", strings.Count(page, "<script"), len(scripts))
	}
	for _, sc := range scripts {
		if !strings.Contains(sc[1], ` src="/assets/`) || sc[2] != "" {
			t.Errorf("an inline script: %s", sc[0])
		}
	}
}

// TestPackStatic: what the page's own files promise, checked on the
// sources: boot.js and style.css use nothing the CSP forbids or the page
// must not do.
func TestPackStatic(t *testing.T) {
	boot, err := os.ReadFile("static/boot.js")
	must(t, err)
	style, err := os.ReadFile("static/style.css")
	must(t, err)
	for _, tc := range []struct {
		name, src, re string
		want          bool
	}{
		{"boot reads the wasm URL", string(boot), `document\.currentScript\.dataset\.wasm`, true},
		{"boot streams the wasm", string(boot), `WebAssembly\.instantiateStreaming\(`, true},
		{"boot checks WebGL", string(boot), `getContext\("webgl2"\)[\s\S]*getContext\("webgl"\)`, true},
		{"boot marks the instantiation", string(boot), `performance\.mark\("sessionguard-wasm-ready"\)`, true},
		{"boot sets the phases", string(boot), `"loading"[\s\S]*"failed"[\s\S]*"running"`, true},
		{"boot says what fails", string(boot), `it needs WebAssembly and WebGL\.[\s\S]*Sessionguard didn't load: \$\{reason\(err\)\}\. Reload to try again\.`, true},
		{"no eval", string(boot), `\beval\(|new Function|setTimeout\("`, false},
		{"no storage", string(boot), `localStorage|sessionStorage|indexedDB|document\.cookie|caches\.`, false},
		{"no innerHTML", string(boot), `innerHTML|document\.write`, false},
		{"dummyEntry off-screen", string(style), `#dummyEntry \{\s*position: absolute;\s*left: 0;\s*top: -100pt;\s*z-index: -10;\s*font-size: 32pt;`, true},
		{"visually hidden by clipping", string(style), `\.visually-hidden \{[^}]*clip: rect\(0 0 0 0\)`, true},
		{"no scrollbars", string(style), `html,\s*body \{[^}]*margin: 0;[^}]*overflow: hidden;`, true},
		{"dark scheme", string(style), `@media \(prefers-color-scheme: dark\)`, true},
		{"no remote fonts or images", string(style), `url\(|@import`, false},
	} {
		if got := regexp.MustCompile(tc.re).MatchString(tc.src); got != tc.want {
			t.Errorf("%s: %q matches: %v, want %v", tc.name, tc.re, got, tc.want)
		}
	}
}

// TestPackAgain: packing the same inputs again gives the same bytes, and
// a new pack removes files of the old one.
func TestPackAgain(t *testing.T) {
	cfg := inputs(t)
	out := filepath.Join(t.TempDir(), "dist")
	if _, err := Pack(cfg, out); err != nil {
		t.Fatal(err)
	}
	first := tree(t, out)
	if _, err := Pack(cfg, out); err != nil {
		t.Fatal(err)
	}
	if second := tree(t, out); !sameTree(first, second) {
		t.Fatalf("a second pack differs:\n%v\n%v", keys(first), keys(second))
	}

	// A changed boot.js: a new name, and the old one gone.
	must(t, os.WriteFile(filepath.Join(cfg.Static, "boot.js"), []byte(strings.Repeat("// changed\n", 20)), 0o644))
	m, err := Pack(cfg, out)
	if err != nil {
		t.Fatal(err)
	}
	third := tree(t, out)
	for rel := range first {
		if strings.HasPrefix(rel, "assets/boot.") {
			if _, ok := third[rel]; ok {
				t.Errorf("%s of the previous pack is still there", rel)
			}
		}
	}
	if len(third) != len(first) || len(m.Files) != 7 {
		t.Errorf("%d files after a repack, want %d", len(third), len(first))
	}
	// No temporary folders left beside out.
	left, err := os.ReadDir(filepath.Dir(out))
	must(t, err)
	if len(left) != 1 {
		t.Errorf("beside the site: %v", left)
	}
}

func sameTree(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

func keys(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestPackRefuses: inputs Pack cannot use fail it, naming the input, and
// leave the previous site as it was.
func TestPackRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, cfg *PackConfig, out string)
		input string // InputError.Input; "" for another error
		is    error
		msg   string
	}{
		{"wasm missing", func(t *testing.T, cfg *PackConfig, out string) { cfg.Wasm += ".nope" }, "Wasm", fs.ErrNotExist, ""},
		{"not wasm", func(t *testing.T, cfg *PackConfig, out string) { cfg.Wasm = cfg.WasmExec }, "Wasm", ErrNotWasm, ""},
		{"icon not a PNG", func(t *testing.T, cfg *PackConfig, out string) { cfg.Icon = cfg.Wasm }, "Icon", ErrNotPNG, ""},
		{"wasm_exec.js missing", func(t *testing.T, cfg *PackConfig, out string) { cfg.WasmExec = "" }, "WasmExec", fs.ErrNotExist, ""},
		{"no index.html", func(t *testing.T, cfg *PackConfig, out string) {
			must(t, os.Remove(filepath.Join(cfg.Static, "index.html")))
		}, "Static", ErrNoIndex, ""},
		{"a sub-folder", func(t *testing.T, cfg *PackConfig, out string) {
			must(t, os.Mkdir(filepath.Join(cfg.Static, "img"), 0o755))
		}, "Static", ErrSubfolder, ""},
		{"an unknown type", func(t *testing.T, cfg *PackConfig, out string) {
			must(t, os.WriteFile(filepath.Join(cfg.Static, "notes.md"), []byte("x"), 0o644))
		}, "Static", ErrUnknownType, ""},
		{"a name not fit for a URL", func(t *testing.T, cfg *PackConfig, out string) {
			must(t, os.WriteFile(filepath.Join(cfg.Static, "my page.css"), []byte("x"), 0o644))
		}, "Static", ErrBadName, ""},
		{"a hidden file", func(t *testing.T, cfg *PackConfig, out string) {
			must(t, os.WriteFile(filepath.Join(cfg.Static, ".x.js"), []byte("x"), 0o644))
		}, "Static", ErrBadName, ""},
		{"the name of a given input", func(t *testing.T, cfg *PackConfig, out string) {
			must(t, os.WriteFile(filepath.Join(cfg.Static, "wasm_exec.js"), []byte("x"), 0o644))
		}, "Static", ErrNameTaken, ""},
		{"the page names an unknown asset", func(t *testing.T, cfg *PackConfig, out string) {
			must(t, os.WriteFile(filepath.Join(cfg.Static, "index.html"), []byte(`<script src="{{asset "app.js"}}"></script>`), 0o644))
		}, "Static", nil, `no asset "app.js"`},
		{"the page is not a template", func(t *testing.T, cfg *PackConfig, out string) {
			must(t, os.WriteFile(filepath.Join(cfg.Static, "index.html"), []byte(`{{asset`), 0o644))
		}, "Static", nil, "index.html"},
		{"brotli quality", func(t *testing.T, cfg *PackConfig, out string) { cfg.BrotliQuality = 12 }, "", nil, "brotli quality 12"},
		{"out is another folder", func(t *testing.T, cfg *PackConfig, out string) {
			must(t, os.RemoveAll(out))
			must(t, os.MkdirAll(out, 0o755))
			must(t, os.WriteFile(filepath.Join(out, "thesis.tex"), []byte("x"), 0o644))
		}, "", ErrNotReplaceable, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := inputs(t)
			out := filepath.Join(t.TempDir(), "dist")
			if _, err := Pack(cfg, out); err != nil {
				t.Fatal(err)
			}
			tc.setup(t, &cfg, out)
			before := tree(t, out)
			_, err := Pack(cfg, out)
			var ie *InputError
			switch {
			case err == nil:
				t.Fatal("Pack succeeded")
			case tc.input != "" && (!errors.As(err, &ie) || ie.Input != tc.input):
				t.Errorf("error %v, want an InputError for %s", err, tc.input)
			case tc.is != nil && !errors.Is(err, tc.is):
				t.Errorf("error %v, want %v", err, tc.is)
			case !strings.Contains(err.Error(), tc.msg):
				t.Errorf("error %v, want it to say %q", err, tc.msg)
			}
			if after := tree(t, out); !sameTree(before, after) {
				t.Errorf("a failed pack changed the site: %v → %v", keys(before), keys(after))
			}
			if left, _ := os.ReadDir(filepath.Dir(out)); len(left) != 1 {
				t.Errorf("beside the site: %v", left)
			}
		})
	}
}

// TestPackIntoPlaceholder: a folder holding only the placeholder (as
// web/dist in a fresh clone) is packed into, and the placeholder Pack
// writes is the one committed there.
func TestPackIntoPlaceholder(t *testing.T) {
	committed, err := os.ReadFile(filepath.Join("dist", placeholderName))
	must(t, err)
	if string(committed) != Placeholder {
		t.Fatalf("web/dist/README.md differs from web.Placeholder, which every pack writes there:\n%s", committed)
	}
	out := filepath.Join(t.TempDir(), "dist")
	must(t, os.Mkdir(out, 0o755))
	must(t, os.WriteFile(filepath.Join(out, placeholderName), committed, 0o644))
	if _, err := Pack(inputs(t), out); err != nil {
		t.Fatal(err)
	}
	if got := tree(t, out)[placeholderName]; !bytes.Equal(got, committed) {
		t.Errorf("README.md after a pack = %q", got)
	}
}
