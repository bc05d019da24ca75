package web

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
)

// DefaultBrotliQuality is the Brotli quality Pack uses unless told
// otherwise. Measured on a 37.7 MB Fyne wasm on 2 cores: quality 9 takes
// 14 s for 9.9 MB; 7 takes 3.7 s for 10.0 MB; 10 takes 69 s for 9.1 MB and
// 11 takes 163 s for 8.8 MB (gzip -9: 2.7 s for 11.7 MB).
const DefaultBrotliQuality = 9

// brotliWindow is the Brotli window (log2 bytes): the largest the format
// allows, which every browser decodes; it finds repeats across a large
// wasm that the default 4 MiB window misses.
const brotliWindow = 24

// hashLen is how many hex digits of a file's SHA-256 go in its name.
const hashLen = 12

// Logical names of the inputs Pack is given (rather than finding them in
// the static folder), as the index.html template names them.
const (
	WasmAsset     = "sessionguard.wasm"
	WasmExecAsset = "wasm_exec.js"
	IconAsset     = "icon.png"
)

// indexTemplate is the static folder's page template.
const indexTemplate = "index.html"

// Placeholder is the README.md that Pack writes into every packed site,
// and that web/dist holds (alone) in the repository, so that the embedded
// site exists before `make web` has run.
const Placeholder = "# web/dist\n\n" +
	"`make web` writes here: the app built for browsers, packed by `cmd/sgweb`\n" +
	"(content-hashed names, `.gz` and `.br` copies, `manifest.json`). `sessiond`\n" +
	"embeds this folder when it is built, and serves it at `/`. Everything but\n" +
	"this file is generated and ignored by git.\n"

// placeholderName is the file name of Placeholder.
const placeholderName = "README.md"

// PackConfig names the inputs of Pack.
type PackConfig struct {
	Wasm     string // the app built with GOOS=js GOARCH=wasm
	WasmExec string // wasm_exec.js of the Go that built Wasm
	// Static is a folder holding index.html (an html/template: see
	// web/static/index.html) and the files it refers to, such as boot.js
	// and style.css. Sub-folders are not supported.
	Static string
	Icon   string // the app's icon, a PNG
	// BrotliQuality is from 0 to 11; 0 means DefaultBrotliQuality.
	BrotliQuality int
}

// InputError is an input of Pack that it cannot use.
type InputError struct {
	Input string // the PackConfig field: "Wasm", "WasmExec", "Static" or "Icon"
	Path  string
	Err   error
}

func (e *InputError) Error() string {
	return fmt.Sprintf("web: %s %s: %v", e.Input, e.Path, e.Err)
}

func (e *InputError) Unwrap() error { return e.Err }

// Reasons an InputError gives.
var (
	ErrNotWasm        = errors.New("not a WebAssembly module")
	ErrNotPNG         = errors.New("not a PNG image")
	ErrUnknownType    = errors.New("unknown file type (extension)")
	ErrBadName        = errors.New("file names may hold only letters, digits, '.', '_' and '-'")
	ErrSubfolder      = errors.New("sub-folders are not supported")
	ErrNameTaken      = errors.New("the name of an input the packer is given")
	ErrNoIndex        = errors.New("no index.html")
	ErrNotReplaceable = errors.New("exists and is not a packed site (no manifest.json): not replacing it")
)

// asset is one file of the site other than index.html.
type asset struct {
	name   string // logical, as index.html names it: "boot.js"
	data   []byte
	served string // "/assets/boot.0123456789ab.js"
	ftype  fileType
}

// siteFile is one file to write, with its compressed copies.
type siteFile struct {
	rel    string // path in the site, slash-separated
	data   []byte
	ftype  fileType
	gz, br []byte // nil: none worth keeping
}

// Pack builds the site that serves the browser build, described by cfg,
// into the folder out: index.html rendered with content-hashed asset
// names, assets/, a .gz and a .br copy beside each compressible file,
// manifest.json and README.md (Placeholder). It builds in a temporary
// folder beside out and then puts it in out's place, so a failed pack
// leaves out as it was, and files of earlier packs do not linger. An
// existing out must be a packed site (or hold only README.md).
func Pack(cfg PackConfig, out string) (*Manifest, error) {
	quality := cmp.Or(cfg.BrotliQuality, DefaultBrotliQuality)
	if quality < 0 || quality > 11 {
		return nil, fmt.Errorf("web: brotli quality %d is not from 0 to 11", cfg.BrotliQuality)
	}
	assets, tmpl, err := readInputs(cfg)
	if err != nil {
		return nil, err
	}
	files, m, err := build(assets, tmpl, cfg.Static, quality)
	if err != nil {
		return nil, err
	}
	if err := writeSite(files, m, out); err != nil {
		return nil, err
	}
	return m, nil
}

// readInputs reads the inputs cfg names: the assets, and the static
// folder's index.html template.
func readInputs(cfg PackConfig) ([]asset, []byte, error) {
	var assets []asset
	given := []struct {
		input, path, name string
		check             func([]byte) error
	}{
		{"Wasm", cfg.Wasm, WasmAsset, isWasm},
		{"WasmExec", cfg.WasmExec, WasmExecAsset, nil},
		{"Icon", cfg.Icon, IconAsset, isPNG},
	}
	for _, g := range given {
		data, err := os.ReadFile(g.path)
		if err == nil && g.check != nil {
			err = g.check(data)
		}
		if err != nil {
			return nil, nil, &InputError{g.input, g.path, err}
		}
		t, _ := typeOf(g.name)
		assets = append(assets, asset{name: g.name, data: data, ftype: t})
	}
	entries, err := os.ReadDir(cfg.Static)
	if err != nil {
		return nil, nil, &InputError{"Static", cfg.Static, err}
	}
	var tmpl []byte
	for _, e := range entries {
		p := filepath.Join(cfg.Static, e.Name())
		if e.IsDir() {
			return nil, nil, &InputError{"Static", p, ErrSubfolder}
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, &InputError{"Static", p, err}
		}
		if e.Name() == indexTemplate {
			tmpl = data
			continue
		}
		if err := checkStaticName(e.Name()); err != nil {
			return nil, nil, &InputError{"Static", p, err}
		}
		t, _ := typeOf(e.Name())
		assets = append(assets, asset{name: e.Name(), data: data, ftype: t})
	}
	if tmpl == nil {
		return nil, nil, &InputError{"Static", cfg.Static, ErrNoIndex}
	}
	return assets, tmpl, nil
}

var safeName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*$`)

// checkStaticName refuses a static file name that cannot become an asset.
func checkStaticName(name string) error {
	switch {
	case !safeName.MatchString(name):
		return ErrBadName
	case name == WasmAsset || name == WasmExecAsset || name == IconAsset || name == placeholderName:
		return ErrNameTaken
	}
	if _, ok := typeOf(name); !ok {
		return ErrUnknownType
	}
	return nil
}

func isWasm(b []byte) error {
	if !bytes.HasPrefix(b, []byte("\x00asm")) {
		return ErrNotWasm
	}
	return nil
}

func isPNG(b []byte) error {
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		return ErrNotPNG
	}
	return nil
}

// hashOf is the hex SHA-256 of b.
func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// hashedName puts the first hashLen hex digits of sum before name's
// extension: boot.js → boot.0123456789ab.js.
func hashedName(name, sum string) string {
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext) + "." + sum[:hashLen] + ext
}

// build names the assets by their content, renders index.html, compresses
// what is worth it, and describes it all in a Manifest.
func build(assets []asset, tmpl []byte, static string, quality int) ([]*siteFile, *Manifest, error) {
	byName := map[string]*asset{}
	var files []*siteFile
	for i := range assets {
		a := &assets[i]
		a.served = "/assets/" + hashedName(a.name, hashOf(a.data))
		byName[a.name] = a
		files = append(files, &siteFile{rel: strings.TrimPrefix(a.served, "/"), data: a.data, ftype: a.ftype})
	}
	t, err := template.New(indexTemplate).Option("missingkey=error").Funcs(template.FuncMap{
		"asset": func(name string) (string, error) {
			a, ok := byName[name]
			if !ok {
				return "", fmt.Errorf("no asset %q", name)
			}
			return a.served, nil
		},
	}).Parse(string(tmpl))
	if err != nil {
		return nil, nil, &InputError{"Static", filepath.Join(static, indexTemplate), err}
	}
	var page bytes.Buffer
	if err := t.Execute(&page, nil); err != nil {
		return nil, nil, &InputError{"Static", filepath.Join(static, indexTemplate), err}
	}
	index := &siteFile{rel: indexTemplate, data: page.Bytes(), ftype: fileTypes[".html"]}
	files = append(files, index)

	if err := compressAll(files, quality); err != nil {
		return nil, nil, err
	}

	m := &Manifest{Version: ManifestVersion, Files: map[string]Entry{}}
	for _, f := range files {
		e := Entry{
			File:        f.rel,
			ContentType: f.ftype.contentType,
			Immutable:   f != index,
			SHA256:      hashOf(f.data),
			Size:        int64(len(f.data)),
			GzipSize:    int64(len(f.gz)),
			BrotliSize:  int64(len(f.br)),
		}
		if f == index {
			m.Files["/"] = e
		}
		m.Files["/"+f.rel] = e
	}
	return files, m, nil
}

// compressAll makes the gzip and Brotli copies of the files worth
// compressing, several at once (the largest first), and keeps only those
// smaller than the file.
func compressAll(files []*siteFile, quality int) error {
	type job struct {
		f  *siteFile
		br bool
	}
	var jobs []job
	for _, f := range files {
		if f.ftype.compress {
			jobs = append(jobs, job{f, true}, job{f, false})
		}
	}
	slices.SortStableFunc(jobs, func(a, b job) int { return cmp.Compare(len(b.f.data), len(a.f.data)) })
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		first   error
		workers = make(chan struct{}, runtime.GOMAXPROCS(0))
	)
	for _, j := range jobs {
		workers <- struct{}{}
		wg.Go(func() {
			defer func() { <-workers }()
			var out []byte
			var err error
			if j.br {
				out, err = brotliOf(j.f.data, quality)
			} else {
				out, err = gzipOf(j.f.data)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				first = cmp.Or(first, fmt.Errorf("web: compressing %s: %w", j.f.rel, err))
			case len(out) >= len(j.f.data):
				// not worth it: serve the file as it is
			case j.br:
				j.f.br = out
			default:
				j.f.gz = out
			}
		})
	}
	wg.Wait()
	return first
}

func gzipOf(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.BestCompression) // no name, no time: the same bytes every pack
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func brotliOf(b []byte, quality int) ([]byte, error) {
	var buf bytes.Buffer
	w := brotli.NewWriterOptions(&buf, brotli.WriterOptions{Quality: quality, LGWin: brotliWindow})
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeSite writes files, the manifest and the placeholder into a new
// folder beside out, then swaps it into out's place.
func writeSite(files []*siteFile, m *Manifest, out string) (err error) {
	out = filepath.Clean(out)
	if err := checkReplaceable(out); err != nil {
		return err
	}
	parent := filepath.Dir(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("web: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, ".dist-new-*") // a dot name: go build and embed patterns skip it
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("web: %w", err)
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	write := func(rel string, data []byte) error {
		p := filepath.Join(tmp, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, data, 0o644)
	}
	for _, f := range files {
		for _, v := range []struct {
			suffix string
			data   []byte
		}{{"", f.data}, {".gz", f.gz}, {".br", f.br}} {
			if v.data == nil {
				continue
			}
			if err := write(f.rel+v.suffix, v.data); err != nil {
				return fmt.Errorf("web: %w", err)
			}
		}
	}
	if err := write(ManifestName, append(manifest, '\n')); err != nil {
		return fmt.Errorf("web: %w", err)
	}
	if err := write(placeholderName, []byte(Placeholder)); err != nil {
		return fmt.Errorf("web: %w", err)
	}
	return swapIn(tmp, out)
}

// checkReplaceable refuses to replace an out that is not a packed site:
// Pack deletes what was there.
func checkReplaceable(out string) error {
	entries, err := os.ReadDir(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	for _, e := range entries {
		if e.Name() == ManifestName {
			return nil
		}
	}
	for _, e := range entries {
		if e.Name() != placeholderName {
			return fmt.Errorf("web: %s %w", out, ErrNotReplaceable)
		}
	}
	return nil
}

// swapIn puts the folder tmp in out's place, and removes the old out.
func swapIn(tmp, out string) error {
	old := tmp + "-old"
	hadOld := true
	if err := os.Rename(out, old); errors.Is(err, os.ErrNotExist) {
		hadOld = false
	} else if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	if err := os.Rename(tmp, out); err != nil {
		if hadOld {
			_ = os.Rename(old, out)
		}
		return fmt.Errorf("web: %w", err)
	}
	if hadOld {
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("web: removing the previous site: %w", err)
		}
	}
	return nil
}
