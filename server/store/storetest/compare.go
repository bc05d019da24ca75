package storetest

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

var timeType = reflect.TypeFor[time.Time]()

// check reports every difference between got and want, field by field.
// Times compare with time.Time.Equal, and a non-zero time in got must be in
// UTC; byte slices compare by content (nil equals empty).
func check(t *testing.T, what string, got, want any) bool {
	t.Helper()
	d := diff(got, want)
	if len(d) > 0 {
		t.Errorf("%s differs:\n\t%s", what, strings.Join(d, "\n\t"))
		return false
	}
	return true
}

// diff lists the differences between got and want, which have one type.
func diff(got, want any) []string {
	var out []string
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	if g.Type() != w.Type() {
		return []string{fmt.Sprintf("type %s, want %s", g.Type(), w.Type())}
	}
	diffValue(g.Type().Name(), g, w, &out)
	return out
}

func diffValue(path string, g, w reflect.Value, out *[]string) {
	if g.Type() == timeType {
		gt, wt := g.Interface().(time.Time), w.Interface().(time.Time)
		if !gt.Equal(wt) {
			*out = append(*out, fmt.Sprintf("%s: %s, want %s", path, fmtTime(gt), fmtTime(wt)))
		} else if !gt.IsZero() && gt.Location() != time.UTC {
			*out = append(*out, fmt.Sprintf("%s: %s is not in UTC", path, fmtTime(gt)))
		}
		return
	}
	switch g.Kind() {
	case reflect.Pointer:
		switch {
		case g.IsNil() && w.IsNil():
		case g.IsNil():
			*out = append(*out, fmt.Sprintf("%s: nil, want %+v", path, w.Elem().Interface()))
		case w.IsNil():
			*out = append(*out, fmt.Sprintf("%s: %+v, want nil", path, g.Elem().Interface()))
		default:
			diffValue(path, g.Elem(), w.Elem(), out)
		}
	case reflect.Struct:
		for i := range g.NumField() {
			if f := g.Type().Field(i); f.IsExported() {
				diffValue(path+"."+f.Name, g.Field(i), w.Field(i), out)
			}
		}
	case reflect.Slice:
		if g.Type().Elem().Kind() == reflect.Uint8 {
			if !bytes.Equal(g.Bytes(), w.Bytes()) {
				*out = append(*out, fmt.Sprintf("%s: %x, want %x", path, g.Bytes(), w.Bytes()))
			}
			return
		}
		if g.Len() != w.Len() {
			*out = append(*out, fmt.Sprintf("%s: %d elements, want %d", path, g.Len(), w.Len()))
			return
		}
		for i := range g.Len() {
			diffValue(fmt.Sprintf("%s[%d]", path, i), g.Index(i), w.Index(i), out)
		}
	default:
		if !reflect.DeepEqual(g.Interface(), w.Interface()) {
			*out = append(*out, fmt.Sprintf("%s: %#v, want %#v", path, g.Interface(), w.Interface()))
		}
	}
}

func fmtTime(t time.Time) string {
	return t.Format("2006-01-02T15:04:05.000000000 MST")
}
