//go:build race && linux && (amd64 || arm64)

package quietconn

import (
	"runtime"
	"unsafe"
)

// ioSync stands, for the race detector, for what the kernel does between
// a write and the read of the same bytes, which it cannot see through raw
// system calls; net.Conn annotates its reads and writes the same way.
var ioSync byte

// raceWillRead: the kernel reads p, and what this goroutine did before
// happens before any read that returns those bytes.
func raceWillRead(p []byte) {
	runtime.RaceReleaseMerge(unsafe.Pointer(&ioSync))
	if len(p) > 0 {
		runtime.RaceReadRange(unsafe.Pointer(&p[0]), len(p))
	}
}

// raceWrote: the kernel wrote p, after the writes that sent its bytes.
func raceWrote(p []byte) {
	runtime.RaceWriteRange(unsafe.Pointer(&p[0]), len(p))
	runtime.RaceAcquire(unsafe.Pointer(&ioSync))
}
