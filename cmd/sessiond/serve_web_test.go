package main

import (
	"bufio"
	"bytes"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"sessionguard/web"
)

// packedSite packs a small stand-in of the web app (a fake wasm and
// wasm_exec.js, the real page, boot.js, style.css and icon) into a
// temporary folder, as make web would into web/dist.
func packedSite(t *testing.T) (string, *web.Manifest) {
	t.Helper()
	dir := t.TempDir()
	cfg := web.PackConfig{
		Wasm:     filepath.Join(dir, "app.wasm"),
		WasmExec: filepath.Join(dir, "wasm_exec.js"),
		Static:   filepath.Join("..", "..", "web", "static"),
		Icon:     filepath.Join("..", "..", "Icon.png"),
	}
	wasm := append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte("a stand-in for the app "), 4000)...)
	if err := os.WriteFile(cfg.Wasm, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.WasmExec, []byte(strings.Repeat("// wasm_exec.js stand-in\n", 40)), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "dist")
	m, err := web.Pack(cfg, out)
	if err != nil {
		t.Fatal(err)
	}
	return out, m
}

// servedPath is the served path of the site's file with the prefix.
func servedPath(t *testing.T, m *web.Manifest, prefix string) string {
	t.Helper()
	for p, e := range m.Files {
		if strings.HasPrefix(e.File, prefix) {
			return p
		}
	}
	t.Fatalf("no %s* in the site", prefix)
	return ""
}

// curl runs the real curl binary on url with args, saving the body to a
// file, and returns the answer's status and headers (from -D -) and body.
func curl(t *testing.T, url string, args ...string) (*http.Response, []byte) {
	t.Helper()
	bin, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl is needed for this test: scripts/deps.sh base installs it")
	}
	bodyFile := filepath.Join(t.TempDir(), "body")
	cmd := exec.Command(bin, append([]string{"-sS", "-D", "-", "-o", bodyFile}, append(args, url)...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("curl %s %s: %v\n%s", strings.Join(args, " "), url, err, stderr.String())
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), nil)
	if err != nil {
		t.Fatalf("curl's headers: %v\n%s", err, out)
	}
	body, err := os.ReadFile(bodyFile)
	if err != nil && !os.IsNotExist(err) { // no body: curl writes no file
		t.Fatal(err)
	}
	return resp, body
}

// webCSP is the Content-Security-Policy the web app is served with.
const webCSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; img-src 'self' data: blob:; " +
	"style-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// TestServeWeb runs the real `sessiond serve --web-dir` on a packed site
// and checks its answers with the real curl: the web app's headers
// (policy, types, caching, codings, revalidation, errors) and that the
// API's paths, known or not, still get the API's JSON.
func TestServeWeb(t *testing.T) {
	dist, m := packedSite(t)
	base, logs := serveLogged(t, "--db", filepath.Join(t.TempDir(), "s.db"), "--web-dir", dist)
	if last := logs[len(logs)-1]; !strings.Contains(last, `"web":"`+dist+`"`) {
		t.Errorf("the listening line does not say where the web app is from: %s", last)
	}
	file := func(rel string) []byte {
		b, err := os.ReadFile(filepath.Join(dist, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	wasm, boot, style, icon := servedPath(t, m, "assets/sessionguard."), servedPath(t, m, "assets/boot."), servedPath(t, m, "assets/style."), servedPath(t, m, "assets/icon.")
	first, _ := curl(t, base+"/", "-H", "Accept-Encoding: br")
	etag := first.Header.Get("ETag")
	if !regexp.MustCompile(`^"[0-9a-f]{32}-br"$`).MatchString(etag) {
		t.Fatalf("ETag of the page in Brotli: %q", etag)
	}

	size := func(n int64) string { return strconv.FormatInt(n, 10) }
	const immutable = "public, max-age=31536000, immutable"
	web := map[string]string{
		"Content-Security-Policy":      webCSP,
		"X-Content-Type-Options":       "nosniff",
		"Referrer-Policy":              "no-referrer",
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Resource-Policy": "same-origin",
		"X-Frame-Options":              "DENY",
		"Permissions-Policy":           "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
	}
	for _, tc := range []struct {
		name    string
		path    string
		args    []string
		status  int
		headers map[string]string // "" means absent
		body    []byte            // nil: not checked
		inBody  string
	}{
		{"page", "/", nil, 200, map[string]string{"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache",
			"Content-Encoding": "", "Vary": "Accept-Encoding"}, file("index.html"), ""},
		{"page in Brotli", "/", []string{"-H", "Accept-Encoding: br"}, 200, map[string]string{"Content-Type": "text/html; charset=utf-8",
			"Content-Encoding": "br", "Vary": "Accept-Encoding", "ETag": etag}, file("index.html.br"), ""},
		{"page in gzip", "/index.html", []string{"-H", "Accept-Encoding: gzip, br;q=0"}, 200, map[string]string{"Content-Encoding": "gzip"}, file("index.html.gz"), ""},
		{"page revalidated", "/", []string{"-H", "Accept-Encoding: br", "-H", "If-None-Match: " + etag}, 304,
			map[string]string{"ETag": etag, "Cache-Control": "no-cache", "Content-Encoding": ""}, []byte{}, ""},
		{"page, HEAD", "/", []string{"-I"}, 200, map[string]string{"Content-Type": "text/html; charset=utf-8",
			"Content-Length": size(m.Files["/"].Size), "Cache-Control": "no-cache"}, nil, ""},
		{"wasm in Brotli", wasm, []string{"-H", "Accept-Encoding: gzip, deflate, br, zstd"}, 200, map[string]string{"Content-Type": "application/wasm",
			"Content-Encoding": "br", "Cache-Control": immutable, "Content-Length": size(m.Files[wasm].BrotliSize)}, file(m.Files[wasm].File + ".br"), ""},
		{"wasm as is", wasm, nil, 200, map[string]string{"Content-Type": "application/wasm", "Content-Encoding": "",
			"Cache-Control": immutable, "Content-Length": size(m.Files[wasm].Size)}, file(m.Files[wasm].File), ""},
		{"boot.js", boot, []string{"-H", "Accept-Encoding: gzip"}, 200, map[string]string{"Content-Type": "text/javascript; charset=utf-8",
			"Content-Encoding": "gzip", "Cache-Control": immutable}, file(m.Files[boot].File + ".gz"), ""},
		{"style.css", style, nil, 200, map[string]string{"Content-Type": "text/css; charset=utf-8", "Cache-Control": immutable}, file(m.Files[style].File), ""},
		{"icon", icon, []string{"-H", "Accept-Encoding: br"}, 200, map[string]string{"Content-Type": "image/png", "Content-Encoding": "",
			"Vary": "", "Cache-Control": immutable}, file(m.Files[icon].File), ""},
		{"unknown path", "/login", nil, 404, map[string]string{"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}, nil, "Not found."},
		{"the manifest is not served", "/manifest.json", nil, 404, map[string]string{"Content-Type": "text/plain; charset=utf-8"}, nil, ""},
		{"POST to the page", "/", []string{"-X", "POST", "-d", "x"}, 405, map[string]string{"Allow": "GET, HEAD", "Content-Type": "text/plain; charset=utf-8"}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := curl(t, base+tc.path, tc.args...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			for k, v := range web {
				if got := resp.Header.Values(k); len(got) != 1 || got[0] != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			for k, v := range tc.headers {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if tc.body != nil && !bytes.Equal(body, tc.body) {
				t.Errorf("body: %d bytes, want %d", len(body), len(tc.body))
			}
			if !strings.Contains(string(body), tc.inBody) {
				t.Errorf("body %q, want it to say %q", body, tc.inBody)
			}
		})
	}

	// The API keeps its paths, its JSON errors and its own headers.
	for _, tc := range []struct {
		name, path string
		args       []string
		status     int
		inBody     string
	}{
		{"an unknown /v1 path", "/v1/nope", nil, 404, `"code":"not_found"`},
		{"/v1 itself", "/v1", nil, 404, `"code":"not_found"`},
		{"an unknown path under /healthz", "/healthz/x", nil, 404, `"code":"not_found"`},
		{"a known path, a wrong method", "/v1/me", []string{"-X", "POST"}, 405, `"code":"method_not_allowed"`},
		{"a call without a token", "/v1/me", nil, 401, `"code":"invalid_token"`},
		{"health", "/healthz", nil, 200, `"status":"ok"`},
	} {
		t.Run("API: "+tc.name, func(t *testing.T) {
			resp, body := curl(t, base+tc.path, tc.args...)
			if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
				!strings.Contains(string(body), tc.inBody) {
				t.Errorf("%d %q %s, want %d JSON with %s", resp.StatusCode, resp.Header.Get("Content-Type"), body, tc.status, tc.inBody)
			}
			if resp.Header.Get("Content-Security-Policy") != "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("the API's headers changed: %v", resp.Header)
			}
		})
	}
}

// TestServeWebSources: where the web app comes from: the copy built into
// sessiond, or none when it was built without make web (404 with a hint,
// and one log line), or --no-web; and bad --web-dir values.
func TestServeWebSources(t *testing.T) {
	dist, _ := packedSite(t)
	defer func(f func() fs.FS) { embeddedWeb = f }(embeddedWeb)
	for _, tc := range []struct {
		name      string
		embedded  fs.FS
		args      []string
		from      string // the listening line's "web"
		status    int
		ctype     string
		inBody    string
		notBuilts int // log lines saying sessiond was built without the app
	}{
		{"built in", os.DirFS(dist), nil, "built in", 200, "text/html; charset=utf-8", "<title>Sessionguard</title>", 0},
		{"built without make web", fstest.MapFS{"README.md": {Data: []byte(web.Placeholder)}}, nil, "not built", 404, "text/plain; charset=utf-8", notBuiltMessage, 1},
		{"built without, --web-dir", fstest.MapFS{"README.md": {Data: []byte(web.Placeholder)}}, []string{"--web-dir", dist}, dist, 200, "text/html; charset=utf-8", "dummyEntry", 0},
		{"--no-web", os.DirFS(dist), []string{"--no-web"}, "off", 404, "application/json", `"code":"not_found"`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			embeddedWeb = func() fs.FS { return tc.embedded }
			base, logs := serveLogged(t, append([]string{"--db", filepath.Join(t.TempDir(), "s.db")}, tc.args...)...)
			if last := logs[len(logs)-1]; !strings.Contains(last, `"web":"`+tc.from+`"`) {
				t.Errorf("listening line %s, want web %q", last, tc.from)
			}
			if n := strings.Count(strings.Join(logs, "\n"), "built without the web app"); n != tc.notBuilts {
				t.Errorf("%d log lines about the missing web app, want %d:\n%s", n, tc.notBuilts, strings.Join(logs, "\n"))
			}
			resp, err := http.Get(base + "/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != tc.ctype || !strings.Contains(string(body), tc.inBody) {
				t.Errorf("GET /: %d %q %q, want %d %q with %q", resp.StatusCode, resp.Header.Get("Content-Type"), body, tc.status, tc.ctype, tc.inBody)
			}
		})
	}

	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, web.ManifestName), []byte(`{"version":1,"files":{"/":{"file":"index.html","content_type":"text/html","sha256":"`+strings.Repeat("0", 64)+`","size":3}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "s.db")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		errOut string
	}{
		{"--web-dir with no site", []string{"--web-dir", t.TempDir()}, 1, "--web-dir " + os.TempDir()},
		{"--web-dir with no site says what to do", []string{"--web-dir", t.TempDir()}, 1, "run make web"},
		{"--web-dir missing", []string{"--web-dir", filepath.Join(t.TempDir(), "nope")}, 1, "no packed site"},
		{"--web-dir with a broken site", []string{"--web-dir", broken}, 1, "index.html"},
		{"--web-dir and --no-web", []string{"--web-dir", dist, "--no-web"}, 2, "--web-dir and --no-web exclude each other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCmd(t, "", append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.errOut) {
				t.Errorf("exit %d (want %d), stderr: %s", code, tc.code, errOut)
			}
		})
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("serve opened the database before refusing its --web-dir")
	}
}
