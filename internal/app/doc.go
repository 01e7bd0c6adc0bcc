// Package app runs every meshbridge binary the same way, so that a new
// one is written by copying an existing main: a Command declares the
// binary's name, usage, configuration defaults, flags bound to the
// configuration's fields and a Run that builds its parts; Main parses the
// flags (--help prints the real defaults, --version, --config), loads the
// configuration file strictly, applies the flags over it, validates,
// sets up logging, and runs the parts in one run group (Group, on
// github.com/oklog/run) until SIGINT or SIGTERM, then drains them within
// a bound. Exit codes are 0 (stopped cleanly), 1 (failed) and 2 (usage or
// configuration).
//
// Listeners join the group through internal/serve, registry front-ends
// through adapters/frontend; a binary's own Run keeps only what is its.
package app
