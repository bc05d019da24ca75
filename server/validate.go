package server

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"sessionguard/api"
	"sessionguard/server/token"
)

// Limits on client-supplied text.
const (
	minUsername = 3
	maxUsername = 32
	maxPassword = 1024 // bytes; the policy allows 256 characters
	maxDeviceID = 64
	maxName     = 64
)

// lower lower-cases the ASCII letters of s (a username as typed at sign-in).
func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// normalizeUsername lower-cases and checks a new username.
func normalizeUsername(u string) (string, error) {
	u = strings.ToLower(strings.TrimSpace(u))
	n := utf8.RuneCountInString(u)
	switch {
	case u == "":
		return "", errInvalid("username", "Choose a username.")
	case n < minUsername || n > maxUsername:
		return "", errInvalid("username", fmt.Sprintf("A username has %d to %d characters.", minUsername, maxUsername))
	}
	for i, c := range u {
		ok := ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || (i > 0 && (c == '.' || c == '_' || c == '-'))
		if !ok {
			return "", errInvalid("username", "A username uses letters, digits, '.', '_' and '-', and starts with a letter or digit.")
		}
	}
	return u, nil
}

// checkCredentials validates the shape of a sign-in's username and password
// (not their truth).
func checkCredentials(username, password string) error {
	if strings.TrimSpace(username) == "" {
		return errInvalid("username", "Enter your username.")
	}
	if len(username) > 256 {
		return errInvalid("username", "The username is too long.")
	}
	if password == "" {
		return errInvalid("password", "Enter your password.")
	}
	if len(password) > maxPassword {
		return errInvalid("password", "The password is too long.")
	}
	return nil
}

// checkDevice validates and tidies a device description.
func checkDevice(d *api.Device) error {
	d.ID = strings.TrimSpace(d.ID)
	if d.ID == "" {
		return errInvalid("device.id", "device.id is required: a stable id for this install.")
	}
	fields := []struct {
		name string
		v    *string
		max  int
	}{
		{"device.id", &d.ID, maxDeviceID},
		{"device.name", &d.Name, maxName},
		{"device.platform", &d.Platform, 32},
		{"device.os", &d.OS, maxName},
		{"device.model", &d.Model, maxName},
		{"device.app_version", &d.AppVersion, 32},
	}
	for _, f := range fields {
		if err := checkText(f.name, f.v, f.max); err != nil {
			return err
		}
	}
	d.Platform = strings.ToLower(d.Platform)
	if d.Name == "" {
		d.Name = "Unnamed device"
	}
	return nil
}

// checkText trims the text field named field in place and checks it holds
// at most limit characters, none of them hidden (hiddenRune).
func checkText(field string, v *string, limit int) error {
	*v = strings.TrimSpace(*v)
	if utf8.RuneCountInString(*v) > limit {
		return errInvalid(field, fmt.Sprintf("%s is longer than %d characters.", field, limit))
	}
	if !utf8.ValidString(*v) || strings.IndexFunc(*v, hiddenRune) >= 0 {
		return errInvalid(field, field+" has characters that are not allowed (control or invisible formatting characters).")
	}
	return nil
}

// checkDeviceName validates and trims a device's new name (PATCH
// /v1/sessions/{id}): the rules of device.name at sign-in, except that
// it may not be empty.
func checkDeviceName(name string) (string, error) {
	if err := checkText("name", &name, maxName); err != nil {
		return "", err
	}
	if name == "" {
		return "", errInvalid("name", "Enter a name for the device (name).")
	}
	return name, nil
}

// hiddenRune reports characters a name must not hold because they are
// invisible or change how the text around them is shown: control
// characters, Unicode format characters (bidi overrides and isolates,
// zero-width spaces and joiners, tag characters, the BOM) and line and
// paragraph separators. With them a device name could pose as another in a
// login alert ("Pixel 8" + U+202E …).
func hiddenRune(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

// checkInstallKey validates an install key (empty: none sent).
func checkInstallKey(k string) error {
	if k == "" {
		return nil
	}
	if len(k) < api.InstallKeyMinLen || len(k) > api.InstallKeyMaxLen {
		return errInvalid("install_key", fmt.Sprintf("install_key must have %d to %d characters.", api.InstallKeyMinLen, api.InstallKeyMaxLen))
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f {
			return errInvalid("install_key", "install_key must be printable ASCII without spaces.")
		}
	}
	return nil
}

// installHash is the stored form of an install key: nil for none.
func installHash(k string) []byte {
	if k == "" {
		return nil
	}
	return token.Hash("sessionguard install key\x00" + k)
}
