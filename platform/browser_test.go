package platform

import (
	"testing"

	"sessionguard/api"
)

func TestBrowserFacts(t *testing.T) {
	for _, tc := range []struct {
		name, ua, platform string
		wantName, wantOS   string
		wantModel          string
	}{
		{"Chromium on Linux", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36", "Linux",
			"Chrome on Linux", "Linux", "Chrome 156"},
		{"Edge on Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86", "Windows",
			"Edge on Windows", "Windows", "Edge 131"},
		{"Firefox on macOS, no userAgentData", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:133.0) Gecko/20100101 Firefox/133.0", "",
			"Firefox on macOS", "macOS", "Firefox 133"},
		{"Safari on an iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "",
			"Safari on iOS", "iOS", "Safari 18"},
		{"Chrome on Android", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Android",
			"Chrome on Android", "Android", "Chrome 131"},
		{"ChromeOS", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome OS",
			"Chrome on ChromeOS", "ChromeOS", "Chrome 131"},
		{"unknown", "", "", "Web browser", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := browserFacts(tc.ua, tc.platform)
			d := describeDevice(NewMemoryPrefs(), "1.0.0", f)
			if d.Name != tc.wantName || f.osName != tc.wantOS || d.Model != tc.wantModel || d.Platform != api.PlatformWeb {
				t.Fatalf("got name %q, OS %q, model %q, platform %q; want %q, %q, %q, web", d.Name, f.osName, d.Model, d.Platform, tc.wantName, tc.wantOS, tc.wantModel)
			}
		})
	}
}
