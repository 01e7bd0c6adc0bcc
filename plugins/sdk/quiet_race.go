//go:build race && linux

package sdk

import "sync"

// ioSync stands for what the kernel does between a write and the read of
// the same bytes, which the race detector cannot see through raw system
// calls: in a test where both ends are in one process, a write happens
// before the read that returns its bytes (net.Conn tells the detector the
// same).
var ioSync sync.Mutex

func raceReleaseIO() { ioSync.Lock(); ioSync.Unlock() }
func raceAcquireIO() { ioSync.Lock(); ioSync.Unlock() }
