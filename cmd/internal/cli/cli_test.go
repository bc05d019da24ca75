package cli

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// cancelled is a context that has ended.
func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestBuildSessiond(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		wantErr string
	}{
		{"builds", context.Background(), ""},
		{"cancelled", cancelled(), "building sessiond (run inside the sessionguard module, or pass --sessiond PATH)"},
	} {
		bin, err := BuildSessiond(tc.ctx, t.TempDir())
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: BuildSessiond = %q, %v; want an error with %q", tc.name, bin, err, tc.wantErr)
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr == "":
			if out, err := exec.Command(bin, "help").CombinedOutput(); err != nil || !strings.Contains(string(out), "sessiond") {
				t.Errorf("%s help: %v\n%s", bin, err, out)
			}
		}
	}
}

func TestWaitHealthy(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer ok.Close()
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer sick.Close()
	running, exited := make(chan struct{}), make(chan struct{})
	close(exited)
	tests := []struct {
		name    string
		ctx     context.Context
		url     string
		exited  chan struct{}
		want    error
		wantMsg string
	}{
		{"healthy", context.Background(), ok.URL, running, nil, ""},
		{"exited", context.Background(), sick.URL, exited, ErrExited, ""},
		{"cancelled", cancelled(), sick.URL, running, context.Canceled, ""},
		{"never healthy", context.Background(), sick.URL, running, nil, "/healthz not OK within 100ms: status 503"},
	}
	for _, tc := range tests {
		err := WaitHealthy(tc.ctx, tc.url, tc.exited, 100*time.Millisecond)
		if tc.wantMsg != "" {
			if err == nil || err.Error() != tc.wantMsg {
				t.Errorf("%s: WaitHealthy = %v, want %q", tc.name, err, tc.wantMsg)
			}
		} else if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: WaitHealthy = %v, want %v", tc.name, err, tc.want)
		}
	}
}
