//go:build !(linux && (amd64 || arm64))

package quietconn

import (
	"os"
	"syscall"
)

// rawFileConn: raw calls are used on Linux amd64 and arm64 only.
func rawFileConn(*os.File) syscall.RawConn { return nil }

func (f *File) Read(p []byte) (int, error)  { return f.f.Read(p) }
func (f *File) Write(p []byte) (int, error) { return f.f.Write(p) }
