//go:build !unix

package sdk

import "errors"

// checkPipeEnd: hosts pass no pipes here (NewChannelPipes).
func checkPipeEnd(int, bool) error { return errors.New("no inherited pipes on this system") }

// closeDescriptor: there are no inherited descriptors here.
func closeDescriptor(int) {}
