package api

import (
	"bytes"
	_ "embed"
)

//go:embed openapi.yaml
var openAPISpec []byte

// OpenAPISpec returns the OpenAPI 3.0.3 document (api/openapi.yaml) that
// describes exactly the routes in Routes and the JSON types of this package.
// Each call returns a fresh copy the caller may modify.
func OpenAPISpec() []byte { return bytes.Clone(openAPISpec) }
