package web

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
)

// Headers of every answer the web handlers give, whatever its status.
// The policy lets the page run its own scripts and compile its own
// WebAssembly, and talk to its own origin only.
var securityHeaders = [][2]string{
	{"Content-Security-Policy", "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; " +
		"img-src 'self' data: blob:; style-src 'self'; font-src 'self'; manifest-src 'self'; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
	{"X-Content-Type-Options", "nosniff"},
	{"Referrer-Policy", "no-referrer"},
	{"Cross-Origin-Opener-Policy", "same-origin"},
	{"Cross-Origin-Resource-Policy", "same-origin"},
	{"X-Frame-Options", "DENY"},
	{"Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()"},
}

// hsts is the Strict-Transport-Security sent over TLS, as the API does.
const hsts = "max-age=63072000"

// Cache-Control of a site's files.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// ErrNotBuilt is Handler's error for a folder with no manifest.json: no
// site was packed there (`make web` had not run).
var ErrNotBuilt = errors.New("web: no packed site (no " + ManifestName + "): run make web")

// ManifestError is a packed site whose manifest.json cannot be read, or
// disagrees with the files beside it.
type ManifestError struct {
	Path string // the served path or file concerned; "" for the whole manifest
	Err  error
}

func (e *ManifestError) Error() string {
	if e.Path == "" {
		return "web: " + ManifestName + ": " + e.Err.Error()
	}
	return "web: " + ManifestName + ": " + e.Path + ": " + e.Err.Error()
}

func (e *ManifestError) Unwrap() error { return e.Err }

// variant is a file in one coding, with its header values made once.
type variant struct {
	file   string
	length string // Content-Length
	etag   string
	data   []byte // nil: read from the site's fs.FS on each request
}

// resource is what one served path answers.
type resource struct {
	contentType  string
	cacheControl string
	vary         bool // has compressed variants
	variants     [numCodings]*variant
}

func (r *resource) available() (a [numCodings]bool) {
	for c, v := range r.variants {
		a[c] = v != nil
	}
	return a
}

// site serves a packed site.
type site struct {
	fsys  fs.FS
	paths map[string]*resource
}

// Handler serves the packed site in fsys (Pack's output: Dist, or
// os.DirFS of a folder): exactly the paths its manifest lists, to GET and
// HEAD, in the best coding the client accepts (Brotli, gzip or none; all
// compressed at pack time), with strong ETags and If-None-Match, long-lived
// caching of content-hashed names, no-cache for the page, and a strict
// Content-Security-Policy and related headers on every answer. It reads
// the manifest once and checks the files' sizes; files under immutable
// names are read from fsys per request (the page is kept in memory), so
// a large wasm is not held in memory twice when fsys is embedded.
//
// The error is ErrNotBuilt when fsys holds no manifest.json, or a
// *ManifestError.
func Handler(fsys fs.FS) (http.Handler, error) {
	raw, err := fs.ReadFile(fsys, ManifestName)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotBuilt
	}
	if err != nil {
		return nil, &ManifestError{Err: err}
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, &ManifestError{Err: err}
	}
	if m.Version != ManifestVersion {
		return nil, &ManifestError{Err: fmt.Errorf("version %d, want %d: pack it again", m.Version, ManifestVersion)}
	}
	s := &site{fsys: fsys, paths: map[string]*resource{}}
	loaded := map[Entry]*resource{} // "/" and "/index.html" share one
	for p, e := range m.Files {
		if !strings.HasPrefix(p, "/") {
			return nil, &ManifestError{p, errors.New("a served path must start with /")}
		}
		if r := loaded[e]; r != nil {
			s.paths[p] = r
			continue
		}
		r, err := load(fsys, e)
		if err != nil {
			return nil, &ManifestError{p, err}
		}
		s.paths[p], loaded[e] = r, r
	}
	return s, nil
}

// load checks an entry against its files and prepares its answers.
func load(fsys fs.FS, e Entry) (*resource, error) {
	if !fs.ValidPath(e.File) || e.File == "." {
		return nil, fmt.Errorf("file %q is not a valid path", e.File)
	}
	if e.ContentType == "" {
		return nil, errors.New("no content type")
	}
	if sum, err := hex.DecodeString(e.SHA256); err != nil || len(sum) != 32 {
		return nil, fmt.Errorf("sha256 %q is not a hex SHA-256", e.SHA256)
	}
	r := &resource{contentType: e.ContentType, cacheControl: cacheRevalidate}
	if e.Immutable {
		r.cacheControl = cacheImmutable
	}
	sizes := [numCodings]int64{identity: e.Size, gzipCoding: e.GzipSize, brCoding: e.BrotliSize}
	suffixes := [numCodings]string{identity: "", gzipCoding: ".gz", brCoding: ".br"}
	for c := range numCodings {
		if c != identity && sizes[c] == 0 {
			continue
		}
		v := &variant{
			file:   e.File + suffixes[c],
			length: strconv.FormatInt(sizes[c], 10),
			// A strong validator per representation: the codings differ.
			etag: `"` + e.SHA256[:32] + strings.ReplaceAll(suffixes[c], ".", "-") + `"`,
		}
		info, err := fs.Stat(fsys, v.file)
		if err != nil {
			return nil, err
		}
		if info.Size() != sizes[c] {
			return nil, fmt.Errorf("%s is %d bytes, the manifest says %d: pack it again", v.file, info.Size(), sizes[c])
		}
		if !e.Immutable {
			// The name does not pin the content: keep what was checked.
			if v.data, err = fs.ReadFile(fsys, v.file); err != nil {
				return nil, err
			}
			if int64(len(v.data)) != sizes[c] {
				return nil, fmt.Errorf("%s changed while being read", v.file)
			}
			if c == identity && hashOf(v.data) != strings.ToLower(e.SHA256) {
				return nil, fmt.Errorf("%s does not match its sha256: pack it again", v.file)
			}
		}
		r.variants[c] = v
		r.vary = r.vary || c != identity
	}
	return r, nil
}

// setSecurityHeaders sets the headers every answer carries.
func setSecurityHeaders(h http.Header, r *http.Request) {
	for _, kv := range securityHeaders {
		h[kv[0]] = []string{kv[1]}
	}
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", hsts)
	}
}

// plainError answers with a short text, never cached.
func plainError(w http.ResponseWriter, status int, text string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(text)+1))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text+"\n")
}

// allowMethods answers a method other than GET and HEAD with 405, and
// reports whether it did.
func allowMethods(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return false
	}
	w.Header().Set("Allow", "GET, HEAD")
	plainError(w, http.StatusMethodNotAllowed, r.Method+" is not allowed here.")
	return true
}

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	setSecurityHeaders(h, r)
	if allowMethods(w, r) {
		return
	}
	res := s.paths[r.URL.Path]
	if res == nil {
		plainError(w, http.StatusNotFound, "Not found.")
		return
	}
	c := negotiate(r.Header.Values("Accept-Encoding"), res.available())
	v := res.variants[c]
	h.Set("Cache-Control", res.cacheControl)
	h.Set("ETag", v.etag)
	if res.vary {
		h.Set("Vary", "Accept-Encoding")
	}
	if etagMatch(r.Header.Values("If-None-Match"), v.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := io.Reader(bytes.NewReader(v.data))
	if v.data == nil {
		f, err := s.fsys.Open(v.file)
		if err != nil {
			plainError(w, http.StatusInternalServerError, "The web app's files changed on disk: restart sessiond.")
			return
		}
		defer f.Close()
		if info, err := f.Stat(); err != nil || strconv.FormatInt(info.Size(), 10) != v.length {
			plainError(w, http.StatusInternalServerError, "The web app's files changed on disk: restart sessiond.")
			return
		}
		body = f
	}
	h.Set("Content-Type", res.contentType)
	if c != identity {
		h.Set("Content-Encoding", codingNames[c])
	}
	h.Set("Content-Length", v.length)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	_, _ = io.Copy(w, body)
}

// etagMatch reports whether If-None-Match field lines match etag, by weak
// comparison (RFC 9110, 13.1.2): "*", or a listed tag with the same
// opaque value, W/ or not.
func etagMatch(fields []string, etag string) bool {
	for _, field := range fields {
		for tag := range strings.SplitSeq(field, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
				return true
			}
		}
	}
	return false
}

// Unavailable answers every GET and HEAD with 404 and message (and other
// methods with 405), with the headers of a site's answers: what serves
// the site's paths when there is no site to serve.
func Unavailable(message string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w.Header(), r)
		if allowMethods(w, r) {
			return
		}
		plainError(w, http.StatusNotFound, message)
	})
}
