package web

import (
	"regexp"
	"strconv"
	"strings"
)

// coding is a content coding a site file may be served in, in the
// server's order of preference (best last).
type coding int

const (
	identity coding = iota
	gzipCoding
	brCoding
	numCodings
)

// names of the codings as Accept-Encoding and Content-Encoding spell them.
var codingNames = [numCodings]string{identity: "identity", gzipCoding: "gzip", brCoding: "br"}

// negotiate picks the coding to answer in from the request's
// Accept-Encoding field lines (RFC 9110, 12.5.3), among those available:
// the one with the highest weight, Brotli before gzip before identity on a
// tie. No Accept-Encoding means identity; identity stays acceptable unless
// refused ("identity;q=0", or "*;q=0" without naming identity), after
// every coding named, and is what is sent when nothing offered is
// acceptable.
func negotiate(fields []string, available [numCodings]bool) coding {
	if len(fields) == 0 {
		return identity
	}
	var q [numCodings]float64
	var named [numCodings]bool
	star, starNamed := 0.0, false
	for _, field := range fields {
		for _, item := range strings.Split(field, ",") {
			name, params, _ := strings.Cut(item, ";")
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" {
				continue
			}
			w, ok := weight(params)
			if !ok {
				continue // a malformed weight: ignore the item
			}
			if name == "*" {
				if !starNamed {
					star, starNamed = w, true
				}
				continue
			}
			if name == "x-gzip" {
				name = "gzip"
			}
			for c, n := range codingNames {
				if n == name && !named[c] {
					q[c], named[c] = w, true
				}
			}
		}
	}
	for c := range numCodings {
		switch {
		case named[c]:
		case starNamed:
			q[c] = star
		case c == identity:
			q[c] = implicitIdentity
		}
	}
	best, bestQ := identity, 0.0
	for c := range numCodings {
		if available[c] && q[c] > 0 && q[c] >= bestQ {
			best, bestQ = c, q[c]
		}
	}
	return best
}

// implicitIdentity is the weight of identity when Accept-Encoding does
// not name it: acceptable, but after any coding the client does name
// (below the least valid qvalue, 0.001).
const implicitIdentity = 0.0005

// qvalue is RFC 9110's weight grammar.
var qvalue = regexp.MustCompile(`^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$`)

// weight reads the q parameter of an Accept-Encoding item (";q=0.5"): 1
// when absent; ok is false when it is not a valid qvalue (0 to 1, at most
// three decimals).
func weight(params string) (float64, bool) {
	w := 1.0
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		v = strings.TrimSpace(v)
		if !qvalue.MatchString(v) {
			return 0, false
		}
		w, _ = strconv.ParseFloat(v, 64)
	}
	return w, true
}
