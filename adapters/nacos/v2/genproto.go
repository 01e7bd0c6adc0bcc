package v2

// This import only pins google.golang.org/genproto to a version after the
// googleapis/rpc split. nacos-sdk-go v2.3.2 (a test dependency) requires an
// older genproto that also holds googleapis/rpc/status, which grpc imports
// from its own module; with the old one selected every build fails with an
// "ambiguous import". Without a package imported from the new genproto,
// `go mod tidy` would drop the requirement again. The package is an alias
// of a protobuf well-known type and adds nothing to the binary.
import _ "google.golang.org/genproto/protobuf/field_mask"
