//go:build !unix

package wire

import "errors"

// inheritsPipes: hosts here pass no pipes (exec.Cmd.ExtraFiles is not
// supported), so calls go through gRPC.
const inheritsPipes = false

func isPipe(int) bool { return false }

func checkPipeEnd(int, bool) error { return errors.New("no inherited pipes on this system") }

func closeOnExec(int) {}

func closeDescriptor(int) {}
