//go:build !(linux && (amd64 || arm64))

package quietconn

import (
	"os"
	"syscall"
)

// rawFileConn: raw calls are used on Linux amd64 and arm64 only.
func rawFileConn(*os.File) syscall.RawConn { return nil }
