package migrations

import (
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
	if Latest(ms) != 10 || Latest(nil) != 0 {
		t.Errorf("Latest = %d (want 10), Latest(nil) = %d (want 0)", Latest(ms), Latest(nil))
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
