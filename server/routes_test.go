package server_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"sessionguard/api"
)

// TestRoutesMatchSpec proves the server serves exactly the paths and
// methods api/openapi.yaml describes.
func TestRoutesMatchSpec(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPISpec())
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	var spec []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			spec = append(spec, strings.ToUpper(method)+" "+path)
		}
	}
	e := newEnv(t)
	var served []string
	for _, r := range e.srv.Routes() {
		served = append(served, r.Method+" "+r.Path)
	}
	sort.Strings(spec)
	sort.Strings(served)
	if strings.Join(spec, "\n") != strings.Join(served, "\n") {
		t.Fatalf("server routes and openapi.yaml differ\nserved:\n%s\nspec:\n%s", strings.Join(served, "\n"), strings.Join(spec, "\n"))
	}
	// And every served route answers (not the 404 of an unknown path).
	for _, r := range e.srv.Routes() {
		path := strings.ReplaceAll(r.Path, "{id}", "ses_x")
		if got := e.do(r.Method, path, "", nil); got.status == 404 && got.errBody(t).Message == "No such endpoint." {
			t.Errorf("%s %s is registered but not served", r.Method, r.Path)
		}
	}
}
