package server

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"sessionguard/api"
)

// Limits on client-supplied text.
const (
	minUsername = 3
	maxUsername = 32
	maxPassword = 1024 // bytes; the policy allows 256 characters
	maxDeviceID = 64
	maxName     = 64
)

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
		*f.v = strings.TrimSpace(*f.v)
		if utf8.RuneCountInString(*f.v) > f.max {
			return errInvalid(f.name, fmt.Sprintf("%s is longer than %d characters.", f.name, f.max))
		}
		if !utf8.ValidString(*f.v) || strings.IndexFunc(*f.v, unicode.IsControl) >= 0 {
			return errInvalid(f.name, f.name+" has characters that are not allowed.")
		}
	}
	d.Platform = strings.ToLower(d.Platform)
	if d.Name == "" {
		d.Name = "Unnamed device"
	}
	return nil
}
