//go:build android

package platform

import (
	"context"
	"os/exec"
	"strings"
	"time"
)

// loadHostFacts reads system properties with getprop, which apps may run.
// Android apps have no meaningful OS user (u0_a123) or host name
// ("localhost"), so the default device name is the model ("Pixel 8").
func loadHostFacts() hostFacts {
	f := hostFacts{goos: "android", osName: "Android", kind: "Android phone"}
	if v := getprop("ro.build.version.release"); v != "" {
		f.osName = "Android " + v
	}
	manufacturer, model := getprop("ro.product.manufacturer"), getprop("ro.product.model")
	f.model = model
	if manufacturer != "" && !strings.HasPrefix(strings.ToLower(model), strings.ToLower(manufacturer)) {
		f.model = strings.TrimSpace(capitalise(manufacturer) + " " + model)
	}
	if strings.Contains(getprop("ro.build.characteristics"), "tablet") {
		f.kind = "Android tablet"
	}
	// The name it is sold under ("Galaxy S23") where the maker sets one,
	// else the model ("Pixel 8"): the default name, as apps have no
	// person's name.
	f.product = getprop("ro.product.marketname")
	if f.product == "" {
		f.product = model
	}
	return f
}

func getprop(name string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/system/bin/getprop", name).Output()
	if err != nil {
		return ""
	}
	return printable(string(out))
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
