//go:build race && linux

package quietconn

import "sync"

// ioSync stands for what the kernel does between a write and the read of
// the same bytes, which the race detector cannot see through raw system
// calls: where both ends are in one process (tests), a write happens
// before the read that returns its bytes, as net.Conn tells the detector.
var ioSync sync.Mutex

func raceRelease() { ioSync.Lock(); ioSync.Unlock() }
func raceAcquire() { ioSync.Lock(); ioSync.Unlock() }
