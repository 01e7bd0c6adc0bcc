//go:build !race && linux && (amd64 || arm64)

package quietconn

func raceWillRead([]byte) {}
func raceWrote([]byte)    {}
