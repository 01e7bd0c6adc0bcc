package openapi

import (
	"context"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
)

// Load reads the OpenAPI 3 document at path (YAML or JSON) and validates
// it. References to other local files are followed; references to URLs
// are not fetched (an error), so importing a spec never reaches the
// network. Errors name the file and the document's path to the fault.
func Load(ctx context.Context, path string) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	loader.Context = ctx
	loader.IsExternalRefsAllowed = true
	loader.ReadFromURIFunc = openapi3.ReadFromFile // local files only
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("openapi: %s: %w", path, err)
	}
	if doc.OpenAPI == "" {
		return nil, fmt.Errorf("openapi: %s: not an OpenAPI 3 document (no openapi field)", path)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("openapi: %s: invalid: %w", path, err)
	}
	return doc, nil
}
