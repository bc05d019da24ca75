package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/server"
)

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func demoLogin(t *testing.T, base string, hc *http.Client) api.Login {
	t.Helper()
	body := fmt.Sprintf(`{"username":%q,"password":%q,"device":{"id":"d1","name":"CLI test"}}`, server.DemoUsername, server.DemoPassword)
	resp, err := hc.Post(base+"/v1/login", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l api.Login
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil || resp.StatusCode != 200 || l.AccessToken == "" {
		t.Fatalf("login: %d %v", resp.StatusCode, err)
	}
	return l
}

// TestServeHardening: the database and its key are private files;
// metrics live only on --metrics-addr; an operator command run while the
// server serves reaches the device's open stream at once.
func TestServeHardening(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "s.db")
	if code, _, errOut := runCmd(t, "", "demo", "--db", db); code != 0 {
		t.Fatal(errOut)
	}
	metrics := freeAddr(t)
	base := serveInBackground(t, "--db", db, "--metrics-addr", metrics)
	l := demoLogin(t, base, http.DefaultClient)

	for _, f := range []string{"s.db", "s.db-wal", "s.db-shm", "secrets.key"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", f, m)
		}
	}

	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("GET /metrics on the API address: %d, want 404", resp.StatusCode)
	}
	resp, err = http.Get("http://" + metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b := new(strings.Builder)
	_, _ = bufio.NewReader(resp.Body).WriteTo(b)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(b.String(), `sessiond_logins_total{result="succeeded"} 1`) {
		t.Errorf("metrics address: %d\n%.300s", resp.StatusCode, b)
	}

	req, _ := http.NewRequest("GET", base+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+l.AccessToken)
	stream, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	got := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stream.Body)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data: ") && strings.Contains(sc.Text(), `"reason":"admin"`) {
				got <- sc.Text()
				return
			}
		}
		close(got)
	}()
	if code, out, errOut := runCmd(t, "", "user", "logout-all", "--db", db, "--username", "demo"); code != 0 {
		t.Fatalf("logout-all: %d %s %s", code, out, errOut)
	}
	select {
	case line, ok := <-got:
		if !ok || !strings.Contains(line, server.AdminDeviceName) {
			t.Fatalf("stream: %q", line)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the running server did not pass logout-all to the open stream")
	}
}

// selfSigned writes a certificate and key for 127.0.0.1.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sessiond test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServeTLS: over TLS 1.2 only forward-secret AEAD suites are offered
// (CBC with SHA-1 is refused), and every answer carries HSTS.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "s.db")
	certFile, keyFile, pool := selfSigned(t, dir)
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--db", db, "--tls-cert", certFile, "--tls-key", keyFile},
			strings.NewReader(""), io.Discard, io.Discard)
	}()
	defer func() { cancel(); <-done }()

	dial := func(suite uint16) error {
		var err error
		for range 100 { // until the server listens
			var c *tls.Conn
			c, err = tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, &tls.Config{RootCAs: pool,
				MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite}})
			if err == nil {
				c.Close()
				return nil
			}
			if !strings.Contains(err.Error(), "connection refused") {
				return err
			}
			time.Sleep(50 * time.Millisecond)
		}
		return err
	}
	tests := []struct {
		suite uint16
		ok    bool
	}{
		{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, true},
		{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, true},
		{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, false},
		{tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, false},
	}
	for _, tc := range tests {
		if err := dial(tc.suite); (err == nil) != tc.ok {
			t.Errorf("%s: handshake error %v, want ok=%v", tls.CipherSuiteName(tc.suite), err, tc.ok)
		}
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.Contains(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("no HSTS: %v", resp.Header)
	}
}
