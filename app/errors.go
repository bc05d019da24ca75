package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"sessionguard/client"
)

// wrongCode is what the person reads after a wrong two-step code.
const wrongCode = "That code is not right. Try the current one."

// setError puts err into the snapshot as words a person can act on.
func (a *App) setError(s *Snapshot, err error) {
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
		s.Offline, s.Link = true, a.linkFor(err)
		s.Err = a.unreachable(s.Link)
		return
	}
	s.Err = Describe(err)
}

// unreachable is what the person reads when a call could not reach the
// server, as link says why.
func (a *App) unreachable(link Link) string {
	if link == LinkOffline {
		return offlineSentence
	}
	return "Can't reach " + a.ServerHost() + ". Check your connection, or try again in a moment."
}

// offlineSentence is what the person reads when this device has no network.
const offlineSentence = "You're offline. Check your connection and try again."

// DismissFieldError hides the error shown under one field ("username",
// "password", "new", …), once the person changes what they typed there.
func (a *App) DismissFieldError(field string) {
	a.mu.Lock()
	_, shown := a.snap.FieldErrors[field]
	a.mu.Unlock()
	if !shown {
		return
	}
	a.update(func(s *Snapshot) {
		delete(s.FieldErrors, field)
		if len(s.FieldErrors) == 0 {
			s.FieldErrors = nil
		}
	})
}

// DescribeServerCheck says what is wrong with the server address typed,
// from the error of checking it (launch's Check): that nothing answers
// there, that what answers is not a Sessionguard server, that it must be
// https://, or what the address probably should be.
func DescribeServerCheck(address string, err error) string {
	var ae *client.AddressError
	hasSuggestion := errors.As(err, &ae) && ae.Suggestion != ""
	host := hostOf(address)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, client.ErrInsecureServer):
		msg := "That address isn't secure: plain http:// only works for a server on this computer."
		if hasSuggestion {
			msg += " Use " + ae.Suggestion + "."
		}
		return msg
	case errors.Is(err, client.ErrInvalidURL) && hasSuggestion:
		return "Server addresses start with https:// — did you mean " + ae.Suggestion + "?"
	case errors.Is(err, client.ErrInvalidURL):
		return "That isn't a server address. It looks like https://sessions.example.com."
	case errors.Is(err, client.ErrNoNetwork):
		return offlineSentence
	case errors.Is(err, client.ErrOffline):
		return "Nothing answers at " + host + ". Check the address, and that the server is running."
	case errors.Is(err, client.ErrNotSessiond):
		return host + " answers, but it isn't a Sessionguard server. Check the address."
	}
	return Describe(err)
}

// hostOf is the host name (and port) in address, or address itself.
func hostOf(address string) string {
	address = strings.TrimSpace(address)
	if u, err := url.Parse(address); err == nil && u.Host != "" {
		return u.Host
	}
	return address
}

// Describe turns an error into a sentence for the person.
func Describe(err error) string {
	var ce *client.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled):
		return "Cancelled."
	case errors.Is(err, client.ErrNoNetwork):
		return offlineSentence
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
// on the server (revoked, expired or unknown), or that its tokens are
// bound to a key this install no longer has (keyLost): the tokens are
// dead here.
func sessionGone(err error) bool {
	return errors.Is(err, client.ErrSessionRevoked) || errors.Is(err, client.ErrSessionExpired) ||
		errors.Is(err, client.ErrInvalidToken)
}

// sessionEnded reports whether err means the session has ended on the
// server: sessionGone, except for a session refused for want of its key
// (keyLost), which lives on at the server until it ends there.
func sessionEnded(err error) bool { return sessionGone(err) && !keyLost(err) }

// keyLost reports whether err is the server refusing this device's own
// session for want of the key it is bound to: the secret store lost the
// proof key (wiped, or unreadable when the app started), so no token of
// the session works here any more.
func keyLost(err error) bool { return errors.Is(err, client.ErrDPoP) }
