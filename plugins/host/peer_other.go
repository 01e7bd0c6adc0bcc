//go:build !linux && !darwin

package host

// peerPID: the peer's process is known on Linux and macOS only; elsewhere
// go-plugin's mutual TLS alone holds.
func peerPID(int) (int, error) { return 0, errNoPeerPID }
