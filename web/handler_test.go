package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// wantCSP is the policy of the issue, spelled out again here so that a
// change to it is a change to this test too.
const wantCSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; img-src 'self' data: blob:; " +
	"style-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// wantSecurity are the headers every answer of a web handler carries.
var wantSecurity = map[string]string{
	"Content-Security-Policy":      wantCSP,
	"X-Content-Type-Options":       "nosniff",
	"Referrer-Policy":              "no-referrer",
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
	"X-Frame-Options":              "DENY",
	"Permissions-Policy":           "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}

// rawClient asks for exactly what a test says: no Accept-Encoding of its
// own, no transparent decompression.
func rawClient(srv *httptest.Server) *http.Client {
	c := srv.Client()
	c.Transport.(*http.Transport).DisableCompression = true
	return c
}

// siteServer packs the test inputs and serves them with Handler.
func siteServer(t *testing.T) (*httptest.Server, string, *Manifest) {
	t.Helper()
	out, m := packed(t)
	h, err := Handler(os.DirFS(out))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, out, m
}

// pathOf returns the served path of the manifest entry whose file has
// the prefix.
func pathOf(t *testing.T, m *Manifest, prefix string) string {
	t.Helper()
	for p, e := range m.Files {
		if strings.HasPrefix(e.File, prefix) {
			return p
		}
	}
	t.Fatalf("no %s* in the manifest", prefix)
	return ""
}

// want is what a request to a site should get.
type want struct {
	status   int
	ctype    string
	encoding string // Content-Encoding: the body is then the file's .br or .gz
	file     string // the file whose bytes are the body; "" for none
	cache    string
	vary     bool
	etag     string
}

// body is the body w expects, from the site's files.
func (w want) body(files map[string][]byte) []byte {
	switch w.encoding {
	case "br":
		return files[w.file+".br"]
	case "gzip":
		return files[w.file+".gz"]
	}
	return files[w.file]
}

func TestHandler(t *testing.T) {
	srv, out, m := siteServer(t)
	files := tree(t, out)
	wasm, js, css, png := pathOf(t, m, "assets/sessionguard."), pathOf(t, m, "assets/boot."), pathOf(t, m, "assets/style."), pathOf(t, m, "assets/icon.")
	etag := func(p, suffix string) string { return `"` + m.Files[p].SHA256[:32] + suffix + `"` }

	page := want{200, "text/html; charset=utf-8", "", "index.html", "no-cache", true, etag("/", "")}
	with := func(w want, f func(*want)) want { f(&w); return w }
	br := func(w *want) { w.encoding, w.etag = "br", w.etag[:len(w.etag)-1]+`-br"` }
	gz := func(w *want) { w.encoding, w.etag = "gzip", w.etag[:len(w.etag)-1]+`-gz"` }
	immutable := "public, max-age=31536000, immutable"
	notFound := want{status: 404, ctype: "text/plain; charset=utf-8", cache: "no-store"}

	for _, tc := range []struct {
		name, method, path string
		header             map[string]string
		want               want
	}{
		{"page", "GET", "/", nil, page},
		{"page by name", "GET", "/index.html", nil, page},
		{"page, br", "GET", "/", map[string]string{"Accept-Encoding": "gzip, deflate, br, zstd"}, with(page, br)},
		{"page, gzip", "GET", "/", map[string]string{"Accept-Encoding": "gzip"}, with(page, gz)},
		{"page, gzip preferred by weight", "GET", "/", map[string]string{"Accept-Encoding": "br;q=0.5, gzip;q=1.0"}, with(page, gz)},
		{"page, br refused", "GET", "/", map[string]string{"Accept-Encoding": "br;q=0, gzip"}, with(page, gz)},
		{"page, anything", "GET", "/", map[string]string{"Accept-Encoding": "*"}, with(page, br)},
		{"page, nothing but identity", "GET", "/", map[string]string{"Accept-Encoding": "identity"}, page},
		{"page, nothing acceptable", "GET", "/", map[string]string{"Accept-Encoding": "*;q=0"}, page},
		{"page, empty Accept-Encoding", "GET", "/", map[string]string{"Accept-Encoding": ""}, page},
		{"page, a weight out of range", "GET", "/", map[string]string{"Accept-Encoding": "br;q=2"}, page},
		{"page, revalidated", "GET", "/", map[string]string{"If-None-Match": etag("/", "")},
			want{status: 304, cache: "no-cache", vary: true, etag: etag("/", "")}},
		{"page, revalidated with a list and a weak tag", "GET", "/", map[string]string{"Accept-Encoding": "br", "If-None-Match": `"x", W/` + etag("/", "-br")},
			want{status: 304, cache: "no-cache", vary: true, etag: etag("/", "-br")}},
		{"page, revalidated with *", "GET", "/", map[string]string{"If-None-Match": "*"},
			want{status: 304, cache: "no-cache", vary: true, etag: etag("/", "")}},
		{"page, another coding's tag", "GET", "/", map[string]string{"Accept-Encoding": "br", "If-None-Match": etag("/", "")}, with(page, br)},
		{"page, a stale tag", "GET", "/", map[string]string{"If-None-Match": `"0123"`}, page},
		{"page, HEAD", "HEAD", "/", map[string]string{"Accept-Encoding": "br"}, with(page, br)},
		{"wasm", "GET", wasm, nil, want{200, "application/wasm", "", m.Files[wasm].File, immutable, true, etag(wasm, "")}},
		{"wasm, br", "GET", wasm, map[string]string{"Accept-Encoding": "gzip, br"}, want{200, "application/wasm", "br", m.Files[wasm].File, immutable, true, etag(wasm, "-br")}},
		{"wasm, x-gzip", "GET", wasm, map[string]string{"Accept-Encoding": "x-gzip"}, want{200, "application/wasm", "gzip", m.Files[wasm].File, immutable, true, etag(wasm, "-gz")}},
		{"wasm, revalidated", "GET", wasm, map[string]string{"Accept-Encoding": "br", "If-None-Match": etag(wasm, "-br")},
			want{status: 304, cache: immutable, vary: true, etag: etag(wasm, "-br")}},
		{"script", "GET", js, map[string]string{"Accept-Encoding": "BR"}, want{200, "text/javascript; charset=utf-8", "br", m.Files[js].File, immutable, true, etag(js, "-br")}},
		{"stylesheet", "GET", css, map[string]string{"Accept-Encoding": "gzip;q=0.8"}, want{200, "text/css; charset=utf-8", "gzip", m.Files[css].File, immutable, true, etag(css, "-gz")}},
		{"icon: never compressed", "GET", png, map[string]string{"Accept-Encoding": "br, gzip"}, want{200, "image/png", "", m.Files[png].File, immutable, false, etag(png, "")}},
		{"unknown path", "GET", "/nope", nil, notFound},
		{"unknown asset", "GET", "/assets/boot.000000000000.js", nil, notFound},
		{"a compressed copy by name", "GET", "/index.html.br", nil, notFound},
		{"the manifest is not served", "GET", "/manifest.json", nil, notFound},
		{"the placeholder is not served", "GET", "/README.md", nil, notFound},
		{"a folder", "GET", "/assets/", nil, notFound},
		{"dot segments", "GET", "/assets/../index.html", nil, notFound},
		{"POST", "POST", "/", nil, want{status: 405, ctype: "text/plain; charset=utf-8", cache: "no-store"}},
		{"PUT an asset", "PUT", wasm, nil, want{status: 405, ctype: "text/plain; charset=utf-8", cache: "no-store"}},
		{"OPTIONS", "OPTIONS", "/", nil, want{status: 405, ctype: "text/plain; charset=utf-8", cache: "no-store"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL, nil)
			must(t, err)
			req.URL.Path = tc.path // as sent, dot segments and all
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := rawClient(srv).Do(req)
			must(t, err)
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			must(t, err)
			w, h := tc.want, resp.Header
			if resp.StatusCode != w.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, w.status, body)
			}
			for k, v := range wantSecurity {
				if got := h.Values(k); len(got) != 1 || got[0] != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if h.Get("Strict-Transport-Security") != "" {
				t.Error("HSTS over plain HTTP")
			}
			if got := h.Get("Content-Type"); w.status != 304 && got != w.ctype {
				t.Errorf("Content-Type %q, want %q", got, w.ctype)
			}
			if got := h.Get("Content-Encoding"); got != w.encoding {
				t.Errorf("Content-Encoding %q, want %q", got, w.encoding)
			}
			if got := h.Get("Cache-Control"); got != w.cache {
				t.Errorf("Cache-Control %q, want %q", got, w.cache)
			}
			if got := h.Get("Vary"); got != map[bool]string{true: "Accept-Encoding"}[w.vary] {
				t.Errorf("Vary %q, want it: %v", got, w.vary)
			}
			if got := h.Get("ETag"); got != w.etag {
				t.Errorf("ETag %q, want %q", got, w.etag)
			}
			if w.status == 405 && h.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow %q", h.Get("Allow"))
			}
			wantBody := w.body(files)
			if tc.method == "HEAD" || w.file == "" {
				if w.status != 404 && w.status != 405 && len(body) != 0 {
					t.Errorf("a body of %d bytes", len(body))
				}
			} else if !bytes.Equal(body, wantBody) {
				t.Errorf("body: %d bytes, want the %d of %s (%s)", len(body), len(wantBody), w.file, w.encoding)
			}
			if w.status == 200 && resp.ContentLength != int64(len(wantBody)) {
				t.Errorf("Content-Length %d, want %d", resp.ContentLength, len(wantBody))
			}
		})
	}
}

// TestHandlerTLS: over TLS, answers carry HSTS, as the API's do.
func TestHandlerTLS(t *testing.T) {
	out, _ := packed(t)
	h, err := Handler(os.DirFS(out))
	must(t, err)
	for _, h := range []http.Handler{h, Unavailable("none")} {
		srv := httptest.NewTLSServer(h)
		resp, err := srv.Client().Get(srv.URL + "/")
		must(t, err)
		resp.Body.Close()
		if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=63072000" || resp.TLS == nil {
			t.Errorf("HSTS %q over %v", got, resp.TLS != nil)
		}
		srv.Close()
	}
}

// TestHandlerRefuses: a folder that is not a whole, consistent site is
// refused when the handler is made, not half-served.
func TestHandlerRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, dir string, m *Manifest)
		is     error
		msg    string
	}{
		{"no manifest", func(t *testing.T, dir string, m *Manifest) {
			must(t, os.Remove(filepath.Join(dir, ManifestName)))
		}, ErrNotBuilt, ""},
		{"manifest not JSON", func(t *testing.T, dir string, m *Manifest) {
			must(t, os.WriteFile(filepath.Join(dir, ManifestName), []byte("{"), 0o644))
		}, nil, "unexpected end of JSON"},
		{"another version", func(t *testing.T, dir string, m *Manifest) { m.Version = 2 }, nil, "version 2, want 1"},
		{"a path without /", func(t *testing.T, dir string, m *Manifest) { m.Files["x"] = m.Files["/"] }, nil, "must start with /"},
		{"a file outside", func(t *testing.T, dir string, m *Manifest) {
			e := m.Files["/"]
			e.File = "../index.html"
			m.Files["/x"] = e
		}, nil, "not a valid path"},
		{"no content type", func(t *testing.T, dir string, m *Manifest) {
			e := m.Files["/"]
			e.ContentType = ""
			m.Files["/x"] = e
		}, nil, "/x: no content type"},
		{"a bad sha256", func(t *testing.T, dir string, m *Manifest) {
			e := m.Files["/"]
			e.SHA256 = "abc"
			m.Files["/"], m.Files["/index.html"] = e, e
		}, nil, "not a hex SHA-256"},
		{"a file missing", func(t *testing.T, dir string, m *Manifest) {
			must(t, os.Remove(filepath.Join(dir, "index.html.br")))
		}, os.ErrNotExist, ""},
		{"a file of another size", func(t *testing.T, dir string, m *Manifest) {
			for _, e := range m.Files {
				if e.ContentType == "application/wasm" {
					must(t, os.WriteFile(filepath.Join(dir, e.File+".gz"), []byte("x"), 0o644))
				}
			}
		}, nil, "the manifest says"},
		{"the page edited", func(t *testing.T, dir string, m *Manifest) {
			p := filepath.Join(dir, "index.html")
			b, err := os.ReadFile(p)
			must(t, err)
			must(t, os.WriteFile(p, bytes.Replace(b, []byte("Sessionguard"), []byte("Sessionguarf"), 1), 0o644))
		}, nil, "does not match its sha256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, m := packed(t)
			tc.change(t, dir, m)
			if tc.name != "manifest not JSON" && tc.name != "no manifest" {
				b, err := json.Marshal(m)
				must(t, err)
				must(t, os.WriteFile(filepath.Join(dir, ManifestName), b, 0o644))
			}
			h, err := Handler(os.DirFS(dir))
			var me *ManifestError
			switch {
			case err == nil || h != nil:
				t.Fatalf("Handler = %v, %v", h, err)
			case tc.is != nil && !errors.Is(err, tc.is):
				t.Errorf("error %v, want %v", err, tc.is)
			case tc.is != ErrNotBuilt && !errors.As(err, &me):
				t.Errorf("error %T %v, want a *ManifestError", err, err)
			case !strings.Contains(err.Error(), tc.msg):
				t.Errorf("error %v, want it to say %q", err, tc.msg)
			}
		})
	}
}

// TestHandlerFilesChange: the page is what was checked at start even if
// the folder changes; an asset that no longer matches its manifest entry
// is a 500, not a wrong body.
func TestHandlerFilesChange(t *testing.T) {
	srv, out, m := siteServer(t)
	page := tree(t, out)["index.html"]
	must(t, os.WriteFile(filepath.Join(out, "index.html"), []byte("changed"), 0o644))
	wasm := pathOf(t, m, "assets/sessionguard.")
	must(t, os.WriteFile(filepath.Join(out, filepath.FromSlash(m.Files[wasm].File)), []byte("\x00asm"), 0o644))
	for _, tc := range []struct {
		path   string
		status int
		body   []byte
	}{
		{"/", 200, page},
		{wasm, 500, []byte("The web app's files changed on disk: restart sessiond.\n")},
	} {
		resp, err := rawClient(srv).Get(srv.URL + tc.path)
		must(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !bytes.Equal(body, tc.body) {
			t.Errorf("%s: %d %q, want %d %q", tc.path, resp.StatusCode, body, tc.status, tc.body)
		}
	}
}

// TestHandlerEmbedded: the site built into the binary is either packed
// whole or only the placeholder (make web not run), nothing in between.
func TestHandlerEmbedded(t *testing.T) {
	h, err := Handler(Dist())
	switch {
	case errors.Is(err, ErrNotBuilt):
		t.Log("web/dist holds only the placeholder (make web has not run)")
	case err != nil:
		t.Fatalf("the embedded site: %v", err)
	default:
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("GET / on the embedded site: %d %q", rec.Code, rec.Header().Get("Content-Type"))
		}
	}
	if _, err := Handler(fstest.MapFS{"README.md": {Data: []byte(Placeholder)}}); !errors.Is(err, ErrNotBuilt) {
		t.Errorf("the placeholder alone: %v, want ErrNotBuilt", err)
	}
}

func TestUnavailable(t *testing.T) {
	srv := httptest.NewServer(Unavailable("No app here."))
	defer srv.Close()
	for _, tc := range []struct {
		method, path string
		status       int
		body, allow  string
	}{
		{"GET", "/", 404, "No app here.\n", ""},
		{"GET", "/assets/x.js", 404, "No app here.\n", ""},
		{"HEAD", "/", 404, "", ""},
		{"DELETE", "/", 405, "DELETE is not allowed here.\n", "GET, HEAD"},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		resp, err := srv.Client().Do(req)
		must(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || string(body) != tc.body || resp.Header.Get("Allow") != tc.allow ||
			resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s: %d %q %v", tc.method, tc.path, resp.StatusCode, body, resp.Header)
		}
		for k, v := range wantSecurity {
			if resp.Header.Get(k) != v {
				t.Errorf("%s %s: %s %q", tc.method, tc.path, k, resp.Header.Get(k))
			}
		}
	}
}

func TestNegotiate(t *testing.T) {
	all := [numCodings]bool{true, true, true}
	noBr := [numCodings]bool{true, true, false}
	plain := [numCodings]bool{true, false, false}
	for _, tc := range []struct {
		fields []string
		have   [numCodings]bool
		want   coding
	}{
		{nil, all, identity},
		{[]string{""}, all, identity},
		{[]string{"gzip, deflate, br, zstd"}, all, brCoding},
		{[]string{"gzip, deflate, br, zstd"}, noBr, gzipCoding},
		{[]string{"gzip, deflate, br, zstd"}, plain, identity},
		{[]string{"gzip", "br"}, all, brCoding}, // several field lines
		{[]string{"deflate"}, all, identity},
		{[]string{"br;q=0.9, gzip"}, all, gzipCoding},
		{[]string{"br;q=0.5, gzip;q=0.5"}, all, brCoding}, // a tie: the server's preference
		{[]string{"gzip;q=0.5, identity;q=0.6"}, all, identity},
		{[]string{"br;q=0, *"}, all, gzipCoding},
		{[]string{"*;q=0.1"}, all, brCoding},
		{[]string{"*;q=0"}, all, identity},                // nothing acceptable: identity anyway
		{[]string{"identity;q=0, gzip"}, plain, identity}, // the same
		{[]string{"identity;q=0, br;q=0.001"}, all, brCoding},
		{[]string{"BR;Q=1"}, all, brCoding},
		{[]string{" br ; q=1.000 "}, all, brCoding},
		{[]string{"br;q=1.0001"}, all, identity}, // too many decimals: ignored
		{[]string{"br;q=2"}, all, identity},
		{[]string{"br;q=-0"}, all, identity},
		{[]string{"br;q="}, all, identity},
		{[]string{"br;q=0.5e0"}, all, identity},
		{[]string{"br;level=5"}, all, brCoding}, // other parameters do not matter
		{[]string{"x-gzip"}, all, gzipCoding},
		{[]string{"gzip;q=0, gzip;q=1"}, all, identity}, // the first mention counts
		{[]string{",,br,,"}, all, brCoding},
	} {
		if got := negotiate(tc.fields, tc.have); got != tc.want {
			t.Errorf("negotiate(%q, %v) = %s, want %s", tc.fields, tc.have, codingNames[got], codingNames[tc.want])
		}
	}
}
