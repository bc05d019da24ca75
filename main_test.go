package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestMain lets a test run the real main() in a child process: the test
// binary re-executes itself with SESSIONGUARD_RUN_MAIN set to the
// arguments (one per line).
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("SESSIONGUARD_RUN_MAIN"); ok {
		os.Args = append([]string{"sessionguard"}, strings.Split(args, "\n")...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestVersionFlagMatchesFyneAppToml runs `sessionguard --version` and
// compares its line with FyneApp.toml's [Details] Name, Version and Build,
// read here with plain patterns.
func TestVersionFlagMatchesFyneAppToml(t *testing.T) {
	b, err := os.ReadFile("FyneApp.toml")
	if err != nil {
		t.Fatal(err)
	}
	details := regexp.MustCompile(`(?ms)^\[Details\]\s*$(.*?)(?:^\[|\z)`).FindSubmatch(b)
	if details == nil {
		t.Fatal("FyneApp.toml has no [Details]")
	}
	get := func(key string) string {
		m := regexp.MustCompile(`(?m)^\s*` + key + `\s*=\s*"?([^"\n]*?)"?\s*$`).FindSubmatch(details[1])
		if m == nil || len(m[1]) == 0 {
			t.Fatalf("FyneApp.toml has no Details.%s", key)
		}
		return string(m[1])
	}
	want := get("Name") + " " + get("Version") + " (build " + get("Build") + ")\n"

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "SESSIONGUARD_RUN_MAIN=--version")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sessionguard --version: %v", err)
	}
	if string(out) != want {
		t.Fatalf("sessionguard --version printed %q, FyneApp.toml says %q", out, want)
	}
}
