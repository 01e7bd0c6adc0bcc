// Package examples holds example meshbridge plugins, each its own program
// in a folder of its own (built by `make plugins` into bin/plugins/):
//
//   - header-injector: adds configured headers to requests (and responses);
//   - jwt-auth: verifies HS256/RS256 bearer tokens, answers 401 otherwise;
//   - canary-cookie: turns a canary cookie into the canary header;
//   - metadata-tagger: an instance transformer that adds metadata and
//     rejects instances missing a required key.
//
// Each is meant to be copied as the start of a new plugin.
package examples
