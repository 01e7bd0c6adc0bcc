// Package openapi turns an OpenAPI 3 document into stubs: Load reads a
// spec (YAML or JSON) with kin-openapi and validates it, Mappings makes
// one stub per operation that answers with the operation's example or,
// when it has none, a body generated from its schema, and Write puts
// them in a stub root the engine loads (mappings/<name>.json).
//
// A stub matches the operation's method and path (a path template such
// as /pets/{id} becomes a urlPathPattern, an integer parameter's segment
// digits only) under the first server's base path, plus the presence of
// its required query, header and cookie parameters. It answers with the
// operation's first 2xx response (else default, as 200). Imported stubs
// sit behind hand-written ones: priority 6 for a concrete path, 7 for a
// templated one, so that /pets/mine answers before /pets/{id} as the
// OpenAPI specification says.
package openapi
