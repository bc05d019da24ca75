package client

import (
	"errors"
	"testing"
)

func TestNewServerAddress(t *testing.T) {
	tests := []struct {
		in   string
		want string // BaseURL when accepted
		err  error  // the error when refused
	}{
		{"http://127.0.0.1:8420", "http://127.0.0.1:8420", nil},
		{"http://localhost", "http://localhost", nil},
		{"HTTP://LocalHost:8420/", "http://localhost:8420", nil},
		{"http://[::1]:1", "http://[::1]:1", nil},
		{"http://127.200.0.9", "http://127.200.0.9", nil},
		{"http://[::ffff:127.0.0.1]:80", "http://[::ffff:127.0.0.1]:80", nil},
		{"https://x", "https://x", nil},
		{"https://sessions.example.org/sessiond/", "https://sessions.example.org/sessiond", nil},
		{"  https://example.org  ", "https://example.org", nil},
		{"https://203.0.113.7:8443", "https://203.0.113.7:8443", nil},

		{"http://example.com", "", ErrInsecureServer},
		{"http://10.0.0.1:8420", "", ErrInsecureServer},
		{"http://0.0.0.0", "", ErrInsecureServer},
		{"http://[::ffff:8.8.8.8]", "", ErrInsecureServer},
		{"http://localhost.example.com", "", ErrInsecureServer},
		{"http://128.0.0.1", "", ErrInsecureServer},

		{"", "", ErrInvalidURL},
		{"   ", "", ErrInvalidURL},
		{"ftp://x", "", ErrInvalidURL},
		{"::", "", ErrInvalidURL},
		{"localhost:8420", "", ErrInvalidURL},
		{"example.org", "", ErrInvalidURL},
		{"https://", "", ErrInvalidURL},
		{"https://:443", "", ErrInvalidURL},
		{"http://user:secret@localhost", "", ErrInvalidURL},
		{"https://x?a=1", "", ErrInvalidURL},
		{"https://x#top", "", ErrInvalidURL},
		{"https://x:99999", "", ErrInvalidURL},
		{"https://x:0", "", ErrInvalidURL},
		{"mailto:a@b", "", ErrInvalidURL},
	}
	for _, tt := range tests {
		c, err := New(tt.in)
		if tt.err != nil {
			if !errors.Is(err, tt.err) || c != nil {
				t.Errorf("New(%q) = %v, %v; want %v", tt.in, c, err, tt.err)
			}
			if err != nil && (errors.Is(err, ErrInsecureServer) == errors.Is(err, ErrInvalidURL)) {
				t.Errorf("New(%q): %v matches both or neither refusal", tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("New(%q): %v", tt.in, err)
			continue
		}
		if c.BaseURL() != tt.want {
			t.Errorf("New(%q).BaseURL() = %q, want %q", tt.in, c.BaseURL(), tt.want)
		}
	}
}

// TestAddressSuggestion: a refused address says what was probably meant.
func TestAddressSuggestion(t *testing.T) {
	for in, want := range map[string]string{
		"sessions.example.com":        "https://sessions.example.com",
		"sessions.example.com:8443/x": "https://sessions.example.com:8443/x",
		"localhost:8420":              "http://localhost:8420",
		"http://sessions.example.com": "https://sessions.example.com",
		"http://10.0.0.1:8420":        "https://10.0.0.1:8420",
		"ftp://x":                     "",
		"":                            "",
		"https://x?a=1":               "",
	} {
		_, err := New(in)
		ae, ok := errors.AsType[*AddressError](err)
		if !ok {
			t.Errorf("New(%q) = %v, want an *AddressError", in, err)
			continue
		}
		if ae.Suggestion != want {
			t.Errorf("New(%q): suggestion %q, want %q", in, ae.Suggestion, want)
		}
	}
}
