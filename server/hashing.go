package server

// Password hashing, admitted rather than just started. Password work is
// slow and memory-hungry by design (argon2id: about 50 ms of CPU and 20 MB
// each), so at most HashConcurrency hashes run at once (GOMAXPROCS-1 by
// default, so a flood of sign-ins always leaves a core for authenticated
// calls — a revoke must go through while someone hammers the sign-in
// form), at most HashQueue more wait for a turn, and none waits longer
// than HashWait. The rest are answered 503 at once, which costs nothing.

import (
	"context"
	"net/http"
	"time"

	"sessionguard/api"
)

// acquireHashSlot takes a hashing turn, waiting for one at most HashWait;
// releaseHashSlot gives it back.
func (s *Server) acquireHashSlot(ctx context.Context) error {
	select {
	case s.hashQueue <- struct{}{}:
	default:
		return s.errHashingBusy()
	}
	t := time.NewTimer(s.cfg.HashWait)
	defer t.Stop()
	select {
	case s.hashSlots <- struct{}{}:
		return nil
	case <-t.C:
		<-s.hashQueue
		return s.errHashingBusy()
	case <-ctx.Done():
		<-s.hashQueue
		return &apiError{status: http.StatusServiceUnavailable, code: api.CodeUnavailable,
			msg: "The server is busy. Try again in a moment.", cause: ctx.Err()}
	}
}

// hashingFull reports whether every hashing turn, running or waiting, is
// taken: a sign-in now would be refused at acquireHashSlot anyway.
func (s *Server) hashingFull() bool { return len(s.hashQueue) == cap(s.hashQueue) }

// errHashingBusy answers a password check that found no turn (counted as
// sessiond_logins_total{result="busy"}).
func (s *Server) errHashingBusy() *apiError {
	s.metrics.logins.WithLabelValues("busy").Inc()
	return errBusy("The server is busy with other sign-ins. Try again in a moment.", time.Second)
}

// releaseHashSlot ends a turn taken with acquireHashSlot.
func (s *Server) releaseHashSlot() {
	<-s.hashSlots
	<-s.hashQueue
}

// verify checks password against an encoded hash in a hashing turn.
func (s *Server) verify(ctx context.Context, password, encoded string) (bool, error) {
	if err := s.acquireHashSlot(ctx); err != nil {
		return false, err
	}
	defer s.releaseHashSlot()
	ok, err := s.hasher.Verify(password, encoded)
	if err != nil {
		return false, storeErr(err)
	}
	return ok, nil
}

// dummyVerify spends as long as verify does, in a hashing turn, for a
// sign-in to an account that does not exist.
func (s *Server) dummyVerify(ctx context.Context, password string) error {
	if err := s.acquireHashSlot(ctx); err != nil {
		return err
	}
	defer s.releaseHashSlot()
	s.hasher.Dummy(password)
	return nil
}

// hash hashes a new password in a hashing turn.
func (s *Server) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquireHashSlot(ctx); err != nil {
		return "", err
	}
	defer s.releaseHashSlot()
	h, err := s.hasher.Hash(password)
	if err != nil {
		return "", storeErr(err)
	}
	return h, nil
}
