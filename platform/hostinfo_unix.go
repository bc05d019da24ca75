//go:build !android && !ios && !darwin && !windows && !js

package platform

import (
	"os"
	"runtime"
)

// loadHostFacts reads os-release and sysfs (Linux desktops, BSDs).
func loadHostFacts() hostFacts { return unixFacts(os.DirFS("/"), runtime.GOOS) }
