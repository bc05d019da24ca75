package platform

import (
	"regexp"
	"strings"
)

// goosBrowser is what hostFacts.goos holds for the web build (GOOS=js):
// the device is a browser, named after itself and its system.
const goosBrowser = "js"

// browserVersion finds browser names and major versions in a user agent.
// The order of browserNames matters: Edge and Opera also say "Chrome",
// Chrome also says "Safari".
var browserVersion = regexp.MustCompile(`(Edg|EdgA|EdgiOS|OPR|Firefox|FxiOS|CriOS|Chrome|Chromium|Version)/(\d+)`)

var browserNames = []struct{ token, name string }{
	{"Edg", "Edge"}, {"EdgA", "Edge"}, {"EdgiOS", "Edge"}, {"OPR", "Opera"},
	{"Firefox", "Firefox"}, {"FxiOS", "Firefox"}, {"CriOS", "Chrome"},
	{"Chromium", "Chromium"}, {"Chrome", "Chrome"}, {"Version", "Safari"},
}

// browserFacts describes a browser from its user agent and, when the
// browser has it, navigator.userAgentData.platform: the kind is "Chrome
// on Linux", the model "Chrome 156", the system "Linux". Nothing here
// identifies the person; the browser says the same to every site.
func browserFacts(userAgent, uaPlatform string) hostFacts {
	found := map[string]string{}
	for _, m := range browserVersion.FindAllStringSubmatch(userAgent, -1) {
		if _, seen := found[m[1]]; !seen {
			found[m[1]] = m[2]
		}
	}
	browser, version := "", ""
	for _, b := range browserNames {
		if v, ok := found[b.token]; ok {
			if b.token == "Version" && !strings.Contains(userAgent, "Safari/") {
				continue
			}
			browser, version = b.name, v
			break
		}
	}
	system := browserSystem(userAgent, uaPlatform)
	f := hostFacts{goos: goosBrowser, osName: system}
	switch {
	case browser != "" && system != "":
		f.kind = browser + " on " + system
	case browser != "":
		f.kind = browser
	case system != "":
		f.kind = "Browser on " + system
	default:
		f.kind = "Web browser"
	}
	if browser != "" {
		f.model = browser + " " + version
	}
	return f
}

// browserSystem names the system a browser runs on.
func browserSystem(userAgent, uaPlatform string) string {
	switch p := strings.TrimSpace(uaPlatform); {
	case p == "macOS", p == "Windows", p == "Android", p == "Linux", p == "Chrome OS", p == "ChromeOS":
		if p == "Chrome OS" {
			return "ChromeOS"
		}
		return p
	}
	switch ua := userAgent; {
	case strings.Contains(ua, "iPhone"), strings.Contains(ua, "iPad"):
		return "iOS"
	case strings.Contains(ua, "Android"):
		return "Android"
	case strings.Contains(ua, "CrOS"):
		return "ChromeOS"
	case strings.Contains(ua, "Windows"):
		return "Windows"
	case strings.Contains(ua, "Mac OS X"), strings.Contains(ua, "Macintosh"):
		return "macOS"
	case strings.Contains(ua, "Linux"), strings.Contains(ua, "X11"):
		return "Linux"
	}
	return ""
}
