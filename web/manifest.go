package web

import (
	"path"
	"strings"
)

// ManifestName is the file at the root of a packed site that lists what
// the site serves.
const ManifestName = "manifest.json"

// ManifestVersion is the version of manifest.json that Pack writes and
// Handler reads.
const ManifestVersion = 1

// Manifest lists what a packed site serves: Handler serves these paths
// and nothing else.
type Manifest struct {
	Version int `json:"version"`
	// Files maps each served path ("/", "/index.html", "/assets/…") to
	// the file behind it.
	Files map[string]Entry `json:"files"`
}

// Entry is one served path of a Manifest.
type Entry struct {
	// File is the file's path in the site, slash-separated; its
	// precompressed copies, when there are any, are File+".gz" and
	// File+".br".
	File        string `json:"file"`
	ContentType string `json:"content_type"`
	// Immutable is true for content-hashed names, which browsers may
	// keep for a year without asking again.
	Immutable bool `json:"immutable"`
	// SHA256 is the hex SHA-256 of the file's bytes (not compressed).
	SHA256 string `json:"sha256"`
	// Size is the file's size; GzipSize and BrotliSize those of its
	// .gz and .br copies, 0 when there is none (compression would not
	// make it smaller, or its type does not compress).
	Size       int64 `json:"size"`
	GzipSize   int64 `json:"gzip_size,omitempty"`
	BrotliSize int64 `json:"br_size,omitempty"`
}

// Wasm returns the served path and entry of the site's WebAssembly
// module, if it has one.
func (m *Manifest) Wasm() (servedPath string, e Entry, ok bool) {
	for p, e := range m.Files {
		if e.ContentType == typeWasm {
			return p, e, true
		}
	}
	return "", Entry{}, false
}

// Content types of the files a site may hold.
const (
	typeHTML = "text/html; charset=utf-8"
	typeJS   = "text/javascript; charset=utf-8"
	typeCSS  = "text/css; charset=utf-8"
	typeWasm = "application/wasm"
	typePNG  = "image/png"
)

// fileType is what Pack knows about a file name extension.
type fileType struct {
	contentType string
	compress    bool // worth precompressing (text, wasm); not images already compressed
}

// fileTypes are the extensions a packed site may hold; Pack refuses
// others rather than guess a type.
var fileTypes = map[string]fileType{
	".html":        {typeHTML, true},
	".js":          {typeJS, true},
	".css":         {typeCSS, true},
	".wasm":        {typeWasm, true},
	".png":         {typePNG, false},
	".svg":         {"image/svg+xml", true},
	".json":        {"application/json", true},
	".webmanifest": {"application/manifest+json", true},
	".woff2":       {"font/woff2", false},
	".txt":         {"text/plain; charset=utf-8", true},
}

// typeOf returns the type of a file name by its extension.
func typeOf(name string) (fileType, bool) {
	t, ok := fileTypes[strings.ToLower(path.Ext(name))]
	return t, ok
}
