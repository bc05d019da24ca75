package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"sessionguard/client"
)

// wrongCode is what the person reads after a wrong two-step code.
const wrongCode = "That code is not right. Try the current one."

// setError puts err into the snapshot as words a person can act on.
func setError(s *Snapshot, err error) {
	var fe *FieldError
	if errors.As(err, &fe) {
		if s.FieldErrors == nil {
			s.FieldErrors = map[string]string{}
		}
		s.FieldErrors[fe.Field] = fe.Message
		return
	}
	var ce *client.Error
	if errors.As(err, &ce) {
		if f := ce.Field(); f != "" && ce.Status == 400 {
			if s.FieldErrors == nil {
				s.FieldErrors = map[string]string{}
			}
			s.FieldErrors[f] = ce.Message
			return
		}
		if errors.Is(err, client.ErrRateLimited) && ce.RetryAfter > 0 {
			s.RetryAt = time.Now().Add(ce.RetryAfter)
		}
	}
	if errors.Is(err, client.ErrOffline) {
		s.Offline = true
	}
	s.Err = Describe(err)
}

// Describe turns an error into a sentence for the person.
func Describe(err error) string {
	var ce *client.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled):
		return "Cancelled."
	case errors.Is(err, client.ErrOffline):
		return "Can't reach the server. Check your connection and try again."
	case errors.Is(err, client.ErrInsecureServer):
		return "That server address is not secure. Use an https:// address (plain http only works on this computer)."
	case errors.As(err, &ce):
		if ce.Message != "" {
			return ce.Message
		}
		return fmt.Sprintf("The server refused the request (%s).", ce.Code)
	case errors.Is(err, ErrReauthRequired), errors.Is(err, ErrNoSecureStorage), errors.Is(err, ErrNotSignedIn):
		return capitalize(err.Error()) + "."
	default:
		return "Something went wrong: " + err.Error()
	}
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// sessionGone reports whether err means this device's session has ended
// on the server (revoked, expired or unknown): the tokens are dead.
func sessionGone(err error) bool {
	return errors.Is(err, client.ErrSessionRevoked) || errors.Is(err, client.ErrSessionExpired) ||
		errors.Is(err, client.ErrInvalidToken)
}
