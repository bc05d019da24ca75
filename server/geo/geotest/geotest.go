// Package geotest writes small GeoLite2-City-shaped .mmdb files for tests,
// with github.com/maxmind/mmdbwriter.
package geotest

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"sessionguard/api"
)

// The places of Sample.
var (
	Lisbon = api.Location{City: "Lisbon", Region: "Lisbon", Country: "Portugal", CountryCode: "PT"}
	Berlin = api.Location{City: "Berlin", Region: "Land Berlin", Country: "Germany", CountryCode: "DE"}
)

// Sample places two documentation networks: 203.0.113.0/24 in Lisbon and
// 198.51.100.0/24 in Berlin.
func Sample() map[netip.Prefix]api.Location {
	return map[netip.Prefix]api.Location{
		netip.MustParsePrefix("203.0.113.0/24"):  Lisbon,
		netip.MustParsePrefix("198.51.100.0/24"): Berlin,
	}
}

// Write builds a City database (type "GeoLite2-City") placing each network
// at its location and writes it to path. Empty fields are left out of the
// record, as in MaxMind's databases.
func Write(path string, places map[netip.Prefix]api.Location) error {
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            "GeoLite2-City",
		Description:             map[string]string{"en": "Sessionguard test database"},
		Languages:               []string{"en"},
		RecordSize:              24,
		IncludeReservedNetworks: true, // the documentation networks are reserved
	})
	if err != nil {
		return err
	}
	for p, l := range places {
		_, n, err := net.ParseCIDR(p.String())
		if err != nil {
			return err
		}
		if err := tree.Insert(n, record(l)); err != nil {
			return fmt.Errorf("geotest: insert %s: %w", p, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := tree.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// File writes Sample to a file in t.TempDir() and returns its path.
func File(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "GeoLite2-City-test.mmdb")
	if err := Write(path, Sample()); err != nil {
		t.Fatalf("geotest: %v", err)
	}
	return path
}

func names(en string) mmdbtype.Map {
	return mmdbtype.Map{"en": mmdbtype.String(en)}
}

func record(l api.Location) mmdbtype.Map {
	m := mmdbtype.Map{}
	if l.City != "" {
		m["city"] = mmdbtype.Map{"names": names(l.City)}
	}
	if l.Region != "" {
		m["subdivisions"] = mmdbtype.Slice{mmdbtype.Map{"names": names(l.Region)}}
	}
	if l.Country != "" || l.CountryCode != "" {
		c := mmdbtype.Map{}
		if l.Country != "" {
			c["names"] = names(l.Country)
		}
		if l.CountryCode != "" {
			c["iso_code"] = mmdbtype.String(l.CountryCode)
		}
		m["country"] = c
	}
	return m
}
