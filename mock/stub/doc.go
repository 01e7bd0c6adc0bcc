// Package stub is the mock server's model: a stub mapping as WireMock
// writes it (mappings/*.json) and as meshbridge's YAML form writes the
// same model, decoded strictly from either (an unknown or unsupported
// field is an error naming it), and compiled once into a Stub that
// matches a request and writes its response (body sources, templating,
// sequences, delays, faults).
//
// Decode turns a file's bytes into Mappings; Compile turns one Mapping
// into a Stub, reading its body file from a Files root. A Stub is
// immutable and safe for concurrent use; the state that changes while
// serving (scenario states, the journal, the sequence counters' owner,
// the set of stubs) belongs to package mock.
package stub
