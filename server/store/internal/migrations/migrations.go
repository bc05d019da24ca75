// Package migrations reads the embedded NNNN_description.sql schema
// migrations the SQLite and PostgreSQL stores apply, in version order.
package migrations

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// File is one migration: its version (the NNNN prefix), its name (the file
// name without .sql) and its SQL.
type File struct {
	Version int
	Name    string
	SQL     string
}

// Parse reads dir's NNNN_description.sql files (other files and
// subdirectories are ignored) in version order. A name without a positive
// number before "_", or two files with one version, is an error.
func Parse(fsys fs.FS, dir string) ([]File, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []File
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, File{Version: v, Name: strings.TrimSuffix(e.Name(), ".sql"), SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b File) int { return a.Version - b.Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s share a version", ms[i-1].Name, ms[i].Name)
		}
	}
	return ms, nil
}

// Latest is the highest version in ms (sorted, as Parse returns them), 0
// for none.
func Latest(ms []File) int {
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}
