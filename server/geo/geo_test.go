package geo_test

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"sessionguard/api"
	"sessionguard/server"
	"sessionguard/server/geo"
	"sessionguard/server/geo/geotest"
)

var _ server.Locator = (*geo.DB)(nil)

func open(t *testing.T, places map[netip.Prefix]api.Location) *geo.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "city.mmdb")
	if err := geotest.Write(path, places); err != nil {
		t.Fatal(err)
	}
	db, err := geo.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestLocate(t *testing.T) {
	places := geotest.Sample()
	onlyCountry := api.Location{Country: "Japan", CountryCode: "JP"}
	places[netip.MustParsePrefix("192.0.2.128/25")] = onlyCountry
	places[netip.MustParsePrefix("2001:db8:1::/48")] = geotest.Berlin
	// Private and loopback networks in the file must still not be placed.
	places[netip.MustParsePrefix("10.0.0.0/8")] = geotest.Lisbon
	places[netip.MustParsePrefix("127.0.0.0/8")] = geotest.Lisbon
	places[netip.MustParsePrefix("fd00::/8")] = geotest.Lisbon
	db := open(t, places)

	tests := []struct {
		ip   string
		want api.Location
	}{
		{"203.0.113.5", geotest.Lisbon},
		{"203.0.113.255", geotest.Lisbon},
		{"::ffff:203.0.113.5", geotest.Lisbon},
		{"198.51.100.77", geotest.Berlin},
		{"2001:db8:1::42", geotest.Berlin},
		{"192.0.2.200", onlyCountry},
		// Unknown to the database.
		{"192.0.2.1", api.Location{}},
		{"8.8.8.8", api.Location{}},
		{"2001:db8:2::1", api.Location{}},
		// Not public: never placed.
		{"10.1.2.3", api.Location{}},
		{"127.0.0.1", api.Location{}},
		{"fd00::1", api.Location{}},
		{"::1", api.Location{}},
		{"192.168.1.10", api.Location{}},
		{"169.254.0.1", api.Location{}},
		{"fe80::1", api.Location{}},
		{"0.0.0.0", api.Location{}},
		{"224.0.0.1", api.Location{}},
	}
	for _, tc := range tests {
		t.Run(tc.ip, func(t *testing.T) {
			if got := db.Locate(netip.MustParseAddr(tc.ip)); got != tc.want {
				t.Errorf("Locate(%s) = %+v, want %+v", tc.ip, got, tc.want)
			}
		})
	}
	if got := db.Locate(netip.Addr{}); !got.IsZero() {
		t.Errorf("Locate(invalid) = %+v", got)
	}
}

func TestLocateConcurrently(t *testing.T) {
	db := open(t, geotest.Sample())
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			ip := netip.AddrFrom4([4]byte{203, 0, 113, byte(i)})
			for range 200 {
				if got := db.Locate(ip); got != geotest.Lisbon {
					t.Errorf("Locate(%s) = %+v", ip, got)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.mmdb")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.mmdb")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	asn := filepath.Join(dir, "asn.mmdb")
	writeASN(t, asn)
	tests := []struct {
		name, path string
		want       []string // substrings of the error
	}{
		{"missing file", filepath.Join(dir, "nope.mmdb"), []string{"nope.mmdb", "City .mmdb"}},
		{"a directory", dir, []string{dir}},
		{"not a database", garbage, []string{"garbage.mmdb", "City .mmdb"}},
		{"empty file", empty, []string{"empty.mmdb"}},
		{"ASN database", asn, []string{"asn.mmdb", `"GeoLite2-ASN"`, "not a GeoIP2/GeoLite2 City database"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, err := geo.Open(tc.path)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%s) succeeded", tc.path)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// writeASN writes a GeoLite2-ASN-shaped database: a real MaxMind file, but
// without city data.
func writeASN(t *testing.T, path string) {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-ASN", RecordSize: 24, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	_, n, _ := net.ParseCIDR("203.0.113.0/24")
	if err := tree.Insert(n, mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(64500)}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
