// Package spec is the scenario file format: a topology (a registry-adapter,
// services with versions and instances, sidecars, extra containers from
// images), then steps (apply or
// delete resources, drive traffic, inject faults, wait, assert). Files are
// strictly decoded (unknown keys are errors naming the key and line) and
// validated with every wrong field named; docs/scenarios.md is the reference.
package spec
