package migrations

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

func TestParse(t *testing.T) {
	good := fstest.MapFS{
		"m/0002_b.sql":  {Data: []byte("B")},
		"m/0001_a.sql":  {Data: []byte("A")},
		"m/README.txt":  {Data: []byte("ignored")},
		"m/0010_c.sql":  {Data: []byte("C")},
		"m/sub/x.sql":   {Data: []byte("ignored")},
		"other/9_z.sql": {Data: []byte("ignored")},
	}
	ms, err := Parse(good, "m")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.Name+"="+m.SQL)
	}
	if want := "0001_a=A 0002_b=B 0010_c=C"; strings.Join(got, " ") != want {
		t.Errorf("Parse = %v, want %s", got, want)
	}
	for _, tc := range []struct {
		name string
		fsys fstest.MapFS
	}{
		{"no number", fstest.MapFS{"m/init.sql": {}}},
		{"no underscore", fstest.MapFS{"m/0001.sql": {}}},
		{"zero", fstest.MapFS{"m/0000_x.sql": {}}},
		{"shared version", fstest.MapFS{"m/0001_a.sql": {}, "m/1_b.sql": {}}},
		{"no directory", fstest.MapFS{}},
	} {
		if _, err := Parse(tc.fsys, "m"); err == nil {
			t.Errorf("Parse(%s) succeeded", tc.name)
		}
	}
}

func TestMustLoad(t *testing.T) {
	good := fstest.MapFS{
		"m/0002_b.sql": {Data: []byte("B")},
		"m/0001_a.sql": {Data: []byte("A")},
		"m/0003_c.sql": {Data: []byte("C")},
	}
	set := MustLoad("test", good, "m")
	if set.Latest() != 3 || len(set.Files()) != 3 || set.Files()[0].Name != "0001_a" {
		t.Errorf("MustLoad: Latest %d, files %v; want 3 files up to 3", set.Latest(), set.Files())
	}
	errTooNew := errors.New("too new")
	for v, want := range map[int]error{0: nil, 3: nil, 4: errTooNew} {
		if err := set.CheckVersion(v, errTooNew); !errors.Is(err, want) || (want == nil) != (err == nil) {
			t.Errorf("CheckVersion(%d) = %v, want %v", v, err, want)
		}
	}
	for _, tc := range []struct {
		name string
		fsys fstest.MapFS
	}{
		{"parse error", fstest.MapFS{"m/init.sql": {}}},
		{"none", fstest.MapFS{"m/README.txt": {}}},
		{"no directory", fstest.MapFS{}},
		{"not from 1", fstest.MapFS{"m/0002_b.sql": {}}},
		{"a gap", fstest.MapFS{"m/0001_a.sql": {}, "m/0003_c.sql": {}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				msg, _ := recover().(string)
				if !strings.HasPrefix(msg, "test: embedded migrations: ") {
					t.Errorf("MustLoad panicked with %q, want a message naming the store", msg)
				}
			}()
			set := MustLoad("test", tc.fsys, "m")
			t.Errorf("MustLoad returned %v, want a panic", set.Files())
		})
	}
}

// fakeDB is a Database at version v that migrates to to, failing where
// told.
type fakeDB struct {
	v, to                  int
	versionErr, migrateErr error
}

func (f *fakeDB) Version(context.Context) (int, error) { return f.v, f.versionErr }

func (f *fakeDB) Migrate(context.Context) error {
	if f.migrateErr == nil {
		f.v = f.to
	}
	return f.migrateErr
}

func TestUpgrade(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name             string
		db               fakeDB
		wantFrom, wantTo int
		wantErr          error
	}{
		{"new", fakeDB{v: 0, to: 3}, 0, 3, nil},
		{"up to date", fakeDB{v: 3, to: 3}, 3, 3, nil},
		{"version fails", fakeDB{versionErr: boom}, 0, 0, boom},
		{"migrate fails", fakeDB{v: 1, to: 3, migrateErr: boom}, 1, 0, boom},
	} {
		from, to, err := Upgrade(t.Context(), &tc.db)
		if from != tc.wantFrom || to != tc.wantTo || !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: Upgrade = %d, %d, %v; want %d, %d, %v", tc.name, from, to, err, tc.wantFrom, tc.wantTo, tc.wantErr)
		}
	}
}
