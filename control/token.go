package control

import (
	"fmt"
	"os"
	"strings"
)

// TokenEnv names the environment variable every binary reads the control
// API token from when its configuration sets none.
const TokenEnv = "MESHBRIDGE_CONTROL_TOKEN"

// TokenFrom returns the control API token a binary uses, the one place
// every binary reads it: token when set (a configuration's control.token),
// else $MESHBRIDGE_CONTROL_TOKEN, else the contents of file with
// surrounding white space trimmed (control.tokenFile: a mounted secret),
// else "" (no token). registry-adapter requires it on writes; the sidecar,
// demoapp and scenario send it.
func TokenFrom(token, file string) (string, error) {
	if token != "" {
		return token, nil
	}
	if env := os.Getenv(TokenEnv); env != "" {
		return env, nil
	}
	if file == "" {
		return "", nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("control: read the token file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
