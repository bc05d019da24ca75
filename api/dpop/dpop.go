// Package dpop makes and checks DPoP proofs (RFC 9449): a device signs
// each request with a key that never leaves it, and the server binds the
// session to that key's thumbprint, so a copied token is useless without
// the key. JWS parsing and signing are go-jose's.
package dpop

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Wire names (DESIGN "Device-bound tokens").
const (
	// Header carries the proof on every request.
	Header = "DPoP"
	// Scheme is the Authorization scheme of a bound access token
	// ("Authorization: DPoP <token>").
	Scheme = "DPoP"
	// Type is the proof's JOSE "typ".
	Type = "dpop+jwt"
	// Window is how far a proof's iat may be from the server's clock,
	// either way.
	Window = 60 * time.Second
	// MaxProofLen bounds the proof a server reads.
	MaxProofLen = 4096
	// MaxJTILen bounds a proof's jti.
	MaxJTILen = 128
)

// Algorithms are the proof signatures accepted: ES256 and EdDSA
// (Ed25519).
var Algorithms = []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA}

// Key is a device's proof key: an Ed25519 key pair made once per install.
type Key struct {
	priv   ed25519.PrivateKey
	signer jose.Signer
	jkt    string
}

// NewKey makes a fresh key.
func NewKey() (*Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return newKey(priv)
}

// ParseKey reads a key written by Marshal.
func ParseKey(s string) (*Key, error) {
	der, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("dpop: key: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("dpop: key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("dpop: key: %T, want Ed25519", k)
	}
	return newKey(priv)
}

func newKey(priv ed25519.PrivateKey) (*Key, error) {
	pub := jose.JSONWebKey{Key: priv.Public(), Algorithm: string(jose.EdDSA)}
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType(Type)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: priv}, opts)
	if err != nil {
		return nil, err
	}
	jkt, err := Thumbprint(&pub)
	if err != nil {
		return nil, err
	}
	return &Key{priv: priv, signer: signer, jkt: jkt}, nil
}

// Marshal writes the private key (PKCS #8, base64url) for a secret store.
func (k *Key) Marshal() (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(der), nil
}

// Thumbprint is the key's JWK SHA-256 thumbprint (RFC 7638), base64url:
// what a bound session is bound to ("jkt").
func (k *Key) Thumbprint() string { return k.jkt }

// Proof signs a proof for a request of method to target (its query and
// fragment are left out), made at now; accessToken, when the request
// carries one, is hashed into "ath".
func (k *Key) Proof(method, target, accessToken string, now time.Time) (string, error) {
	htu, err := requestURI(target)
	if err != nil {
		return "", err
	}
	c := claims{JTI: newJTI(), HTM: method, HTU: htu, IAT: now.Unix()}
	if accessToken != "" {
		c.ATH = AccessTokenHash(accessToken)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	jws, err := k.signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// AccessTokenHash is "ath": base64url SHA-256 of the access token.
func AccessTokenHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Thumbprint is jwk's SHA-256 thumbprint, base64url.
func Thumbprint(jwk *jose.JSONWebKey) (string, error) {
	b, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// claims is a proof's payload.
type claims struct {
	JTI string `json:"jti"`
	HTM string `json:"htm"`
	HTU string `json:"htu"`
	IAT int64  `json:"iat"`
	ATH string `json:"ath,omitempty"`
}

// newJTI is a proof's unique ID: 128 random bits.
func newJTI() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// requestURI is target without its query and fragment ("htu").
func requestURI(target string) (string, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("dpop: %q is not an absolute URL", target)
	}
	u.RawQuery, u.Fragment, u.RawFragment, u.User = "", "", "", nil
	return u.String(), nil
}

// Reasons a proof is refused (Error.Reason).
var (
	ErrMalformed = errors.New("malformed")
	ErrType      = errors.New("wrong typ")
	ErrKey       = errors.New("no usable public key")
	ErrSignature = errors.New("bad signature")
	ErrMethod    = errors.New("htm does not match the request")
	ErrURL       = errors.New("htu does not match the request")
	ErrTime      = errors.New("iat outside the window")
	ErrATH       = errors.New("ath does not match the access token")
	ErrReplay    = errors.New("jti already used")
)

// Error is a refused proof; Reason is one of the Err values above.
type Error struct {
	Reason error
	Detail string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return "dpop proof: " + e.Reason.Error()
	}
	return "dpop proof: " + e.Reason.Error() + ": " + e.Detail
}

// Unwrap lets errors.Is match the reason.
func (e *Error) Unwrap() error { return e.Reason }

func refuse(reason error, detail string) error { return &Error{Reason: reason, Detail: detail} }

// Checked is what a valid proof says.
type Checked struct {
	// JKT is the thumbprint of the key that signed it.
	JKT string
	// JTI is its unique ID; IAT when it was made.
	JTI string
	IAT time.Time
}

// Request is what a proof must match: the request's method, its host
// (as the client addressed it) and path, and the access token it
// carries ("" for none).
type Request struct {
	Method, Host, Path string
	AccessToken        string
}

// Check verifies proof for req at now: its form, typ and algorithm, the
// signature by the public key it embeds, htm, htu (host and path; the
// scheme may be http or https, as a proxy that ends TLS sees it), iat
// within Window of now, and ath when req carries a token (and no ath when
// it doesn't). Replays are the caller's to refuse (Replays). The errors
// are *Error.
func Check(proof string, req Request, now time.Time) (Checked, error) {
	if proof == "" || len(proof) > MaxProofLen {
		return Checked{}, refuse(ErrMalformed, "empty or too long")
	}
	jws, err := jose.ParseSignedCompact(proof, Algorithms)
	if err != nil {
		return Checked{}, refuse(ErrMalformed, err.Error())
	}
	if len(jws.Signatures) != 1 {
		return Checked{}, refuse(ErrMalformed, "not one signature")
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != Type {
		return Checked{}, refuse(ErrType, typ)
	}
	jwk := h.JSONWebKey
	if jwk == nil || !jwk.Valid() || !jwk.IsPublic() {
		return Checked{}, refuse(ErrKey, "")
	}
	payload, err := jws.Verify(jwk)
	if err != nil {
		return Checked{}, refuse(ErrSignature, "")
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return Checked{}, refuse(ErrMalformed, "claims: "+err.Error())
	}
	if c.JTI == "" || len(c.JTI) > MaxJTILen {
		return Checked{}, refuse(ErrMalformed, "jti")
	}
	if c.HTM != req.Method {
		return Checked{}, refuse(ErrMethod, c.HTM)
	}
	if !sameTarget(c.HTU, req.Host, req.Path) {
		return Checked{}, refuse(ErrURL, c.HTU)
	}
	iat := time.Unix(c.IAT, 0)
	if d := now.Sub(iat); d > Window || d < -Window {
		return Checked{}, refuse(ErrTime, iat.UTC().Format(time.RFC3339))
	}
	switch {
	case req.AccessToken == "" && c.ATH != "":
		return Checked{}, refuse(ErrATH, "a proof for a token on a request without one")
	case req.AccessToken != "" && c.ATH != AccessTokenHash(req.AccessToken):
		return Checked{}, refuse(ErrATH, "")
	}
	jkt, err := Thumbprint(jwk)
	if err != nil {
		return Checked{}, refuse(ErrKey, err.Error())
	}
	return Checked{JKT: jkt, JTI: c.JTI, IAT: iat}, nil
}

// sameTarget reports whether htu names host and path: http or https,
// the host compared without case and with the scheme's default port
// dropped.
func sameTarget(htu, host, path string) bool {
	u, err := url.Parse(htu)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return false
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	return strings.EqualFold(trimPort(u.Host, u.Scheme), trimPort(host, u.Scheme)) && p == path
}

// trimPort drops scheme's default port from host.
func trimPort(host, scheme string) string {
	switch {
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		return strings.TrimSuffix(host, ":80")
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		return strings.TrimSuffix(host, ":443")
	}
	return host
}
