//go:build linux

package main

import (
	"slices"
	"testing"
)

func TestParseChoices(t *testing.T) {
	allowed := []string{"full", "normal"}
	for _, tc := range []struct {
		v       string
		want    []string
		wantErr string
	}{
		{"full,normal", []string{"full", "normal"}, ""},
		{" normal , full", []string{"normal", "full"}, ""},
		{"full,full", nil, `--m: "full" twice`},
		{"full,off", nil, `--m: "off" is not full or normal`},
	} {
		got, err := parseChoices("m", tc.v, allowed, "%q is not full or normal")
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("parseChoices(%q) = %v, %v; want error %q", tc.v, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("parseChoices(%q) = %v, %v; want %v", tc.v, got, err, tc.want)
		}
	}
}
