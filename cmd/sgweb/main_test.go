package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	wasm, exec := filepath.Join(dir, "app.wasm"), filepath.Join(dir, "wasm_exec.js")
	if err := os.WriteFile(wasm, append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte("body "), 5000)...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exec, []byte(strings.Repeat("// wasm_exec.js\n", 50)), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "dist")
	common := []string{"--static", "../../web/static", "--icon", "../../Icon.png", "--out", out}
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string // a regexp
		stderr string
	}{
		{"packs", append([]string{"--wasm", wasm, "--wasm-exec", exec}, common...), 0,
			`^sgweb: /assets/sessionguard\.[0-9a-f]{12}\.wasm: 0\.03 MB \(25008 bytes\) raw, 0\.00 MB \(\d+ bytes\) gzip, 0\.00 MB \(\d+ bytes\) brotli \(quality 9\)\n` +
				`sgweb: packed 7 paths into .*dist in [0-9.]+m?s\n$`, ""},
		{"another quality", append([]string{"--wasm", wasm, "--wasm-exec", exec, "--brotli-quality", "11"}, common...), 0, `\(quality 11\)`, ""},
		{"no wasm", append([]string{"--wasm-exec", exec}, common...), 2, `^$`, "--wasm and --wasm-exec are required"},
		{"a quality out of range", append([]string{"--wasm", wasm, "--wasm-exec", exec, "--brotli-quality", "0"}, common...), 2, `^$`, "--brotli-quality is 1 to 11"},
		{"an argument", append([]string{"--wasm", wasm, "--wasm-exec", exec, "extra"}, common...), 2, `^$`, "no arguments"},
		{"an unknown flag", []string{"--nope"}, 2, `^$`, "flag provided but not defined"},
		{"not a wasm", append([]string{"--wasm", exec, "--wasm-exec", exec}, common...), 1, `^$`, "not a WebAssembly module"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &stdout, &stderr)
			if code != tc.code || !regexp.MustCompile(tc.stdout).MatchString(stdout.String()) || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, stdout.String(), stderr.String())
			}
		})
	}
	if _, err := os.Stat(filepath.Join(out, "manifest.json")); err != nil {
		t.Errorf("no site packed: %v", err)
	}
}
