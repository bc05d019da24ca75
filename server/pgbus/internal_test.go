package pgbus

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestNotRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"crash shutdown", fmt.Errorf("exec: %w", &pgconn.PgError{Code: "57P02"}), true},
		{"starting up", &pgconn.PgError{Code: "57P03"}, true},
		{"syntax error ran", &pgconn.PgError{Code: "42601"}, false},
		{"payload too long", &pgconn.PgError{Code: "22023"}, false},
		{"read failed mid-way", io.ErrUnexpectedEOF, false},
		{"other", errors.New("boom"), false},
	} {
		if got := notRun(tc.err); got != tc.want {
			t.Errorf("%s: notRun(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
