// Command sgweb packs Sessionguard's browser build into the site sessiond
// serves (web.Pack): `make web` runs it to fill web/dist.
//
//	sgweb --wasm build/web/sessionguard.wasm --wasm-exec "$(go env GOROOT)/lib/wasm/wasm_exec.js" \
//	      --static web/static --icon Icon.png --out web/dist
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"sessionguard/web"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run is the whole command, so tests can drive it in-process.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sgweb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg web.PackConfig
	fs.StringVar(&cfg.Wasm, "wasm", "", "the app built with GOOS=js GOARCH=wasm (required)")
	fs.StringVar(&cfg.WasmExec, "wasm-exec", "", "wasm_exec.js of the Go that built it: $(go env GOROOT)/lib/wasm/wasm_exec.js (required)")
	fs.StringVar(&cfg.Static, "static", "web/static", "folder with the index.html template and the files it names")
	fs.StringVar(&cfg.Icon, "icon", "Icon.png", "the app's icon (PNG), the page's favicon")
	out := fs.String("out", "web/dist", "folder to pack into (replaced whole)")
	fs.IntVar(&cfg.BrotliQuality, "brotli-quality", web.DefaultBrotliQuality, "Brotli quality, 1 to 11 (11: about 12% smaller wasm, 10x slower)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if cfg.Wasm == "" || cfg.WasmExec == "" || fs.NArg() > 0 || cfg.BrotliQuality < 1 || cfg.BrotliQuality > 11 {
		fmt.Fprintln(stderr, "sgweb: --wasm and --wasm-exec are required, --brotli-quality is 1 to 11, and there are no arguments")
		fs.Usage()
		return 2
	}
	start := time.Now()
	m, err := web.Pack(cfg, *out)
	if err != nil {
		fmt.Fprintf(stderr, "sgweb: %v\n", err)
		return 1
	}
	took := time.Since(start).Round(100 * time.Millisecond)
	if p, e, ok := m.Wasm(); ok {
		fmt.Fprintf(stdout, "sgweb: %s: %s raw, %s gzip, %s brotli (quality %d)\n",
			p, mb(e.Size), mb(e.GzipSize), mb(e.BrotliSize), cfg.BrotliQuality)
	}
	fmt.Fprintf(stdout, "sgweb: packed %d paths into %s in %v\n", len(m.Files), *out, took)
	return 0
}

// mb formats a size in megabytes (10^6 bytes), with the exact byte count.
func mb(n int64) string {
	return fmt.Sprintf("%.2f MB (%d bytes)", float64(n)/1e6, n)
}
