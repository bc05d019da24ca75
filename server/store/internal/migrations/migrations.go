// Package migrations reads the embedded NNNN_description.sql schema
// migrations the SQLite and PostgreSQL stores apply, in version order, and
// holds what both stores know of them: the set a build carries (MustLoad),
// its latest version, and the check that a database is not ahead of it.
package migrations

import (
	"context"
	"errors"
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

// Set is the migrations one store's build carries: versions 1, 2, 3…
// without a gap, in version order. Make it with MustLoad.
type Set struct {
	files []File
}

// MustLoad reads a store's embedded migrations from dir of fsys (as Parse
// does) and checks that they are versions 1 to n without a gap, n at
// least 1. They are part of the build, so an error is a mistake in the
// build, not something to handle: it panics, naming the store (a package
// that calls it at initialisation fails every test and every start).
func MustLoad(store string, fsys fs.FS, dir string) Set {
	ms, err := Parse(fsys, dir)
	if err == nil {
		err = contiguous(ms)
	}
	if err != nil {
		panic(fmt.Sprintf("%s: embedded migrations: %v", store, err))
	}
	return Set{files: ms}
}

// contiguous checks that ms (sorted) are versions 1 to len(ms), len(ms)
// at least 1.
func contiguous(ms []File) error {
	if len(ms) == 0 {
		return errors.New("none")
	}
	for i, m := range ms {
		if m.Version != i+1 {
			return fmt.Errorf("%s has version %d, want %d (versions start at 1 and have no gaps)", m.Name, m.Version, i+1)
		}
	}
	return nil
}

// Files are the migrations in version order. The slice is shared: callers
// must not modify it.
func (s Set) Files() []File { return s.files }

// Latest is the schema version the set migrates to: its highest version,
// at least 1.
func (s Set) Latest() int { return s.files[len(s.files)-1].Version }

// CheckVersion returns nil if a database at schema version v is one this
// build knows, else an error wrapping tooNew (the store's
// ErrSchemaTooNew) that names both versions: the database was migrated
// by a newer build.
func (s Set) CheckVersion(v int, tooNew error) error {
	if latest := s.Latest(); v > latest {
		return fmt.Errorf("%w: database at version %d, this build knows up to %d", tooNew, v, latest)
	}
	return nil
}

// Database is a store open on a database, as far as migrating goes.
type Database interface {
	// Version is the database's schema version, 0 for a new database.
	Version(ctx context.Context) (int, error)
	// Migrate applies the migrations the database lacks.
	Migrate(ctx context.Context) error
}

// Upgrade migrates db and reports its versions before and after: the
// stores' MigrateFile and MigrateURL.
func Upgrade(ctx context.Context, db Database) (from, to int, err error) {
	if from, err = db.Version(ctx); err != nil {
		return 0, 0, err
	}
	if err = db.Migrate(ctx); err != nil {
		return from, 0, err
	}
	to, err = db.Version(ctx)
	return from, to, err
}
