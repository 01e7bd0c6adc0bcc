// Package crossview holds the tests that read one registry through every
// front-end at once, with the decoders the protocols' real clients use:
// whatever the store accepts, Eureka's XML and JSON, Consul's JSON and
// Nacos's JSON must carry (FuzzViews), and a name one protocol lets in
// must be found through the others. It has no code of its own.
package crossview
