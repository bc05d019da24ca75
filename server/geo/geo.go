// Package geo locates IP addresses with a MaxMind GeoIP2 or GeoLite2 City
// database (.mmdb). It implements server.Locator.
package geo

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"

	"github.com/oschwald/geoip2-golang/v2"

	"sessionguard/api"
)

// DB is an open City database. It is safe for concurrent use. Close it
// when done.
type DB struct {
	r *geoip2.Reader
}

// Open opens the GeoIP2/GeoLite2 City database file at path. It fails with
// an error naming the file when the file is missing, is not a MaxMind
// database, or is a database without city data (e.g. ASN).
func Open(path string) (*DB, error) {
	r, err := geoip2.Open(path)
	if err != nil {
		if r != nil {
			_ = r.Close()
		}
		var unknown geoip2.UnknownDatabaseTypeError
		if errors.As(err, &unknown) {
			return nil, fmt.Errorf("geo: %s is a %q database, not a GeoIP2/GeoLite2 City database", path, unknown.DatabaseType)
		}
		if _, ok := errors.AsType[*fs.PathError](err); ok { // names the file already
			return nil, fmt.Errorf("geo: %w (want a GeoIP2/GeoLite2 City .mmdb file)", err)
		}
		return nil, fmt.Errorf("geo: open %s: %w (want a GeoIP2/GeoLite2 City .mmdb file)", path, err)
	}
	if _, err := r.City(netip.IPv4Unspecified()); err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("geo: %s is a %q database, not a GeoIP2/GeoLite2 City database", path, r.Metadata().DatabaseType)
	}
	return &DB{r: r}, nil
}

// Locate returns the English names of the city, first subdivision (region)
// and country of ip, and the country's ISO code. Addresses that are not
// public (private, loopback, link-local, unspecified, multicast) and
// addresses the database does not know give the zero Location.
func (db *DB) Locate(ip netip.Addr) api.Location {
	ip = ip.Unmap()
	if !Public(ip) {
		return api.Location{}
	}
	c, err := db.r.City(ip)
	if err != nil || c == nil {
		return api.Location{}
	}
	l := api.Location{
		City:        c.City.Names.English,
		Country:     c.Country.Names.English,
		CountryCode: c.Country.ISOCode,
	}
	if len(c.Subdivisions) > 0 {
		l.Region = c.Subdivisions[0].Names.English
	}
	return l
}

// Public reports whether ip is an address a GeoIP database can place:
// valid, global unicast and not in a private range.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && ip.IsGlobalUnicast() && !ip.IsPrivate()
}

// Close releases the database.
func (db *DB) Close() error { return db.r.Close() }
