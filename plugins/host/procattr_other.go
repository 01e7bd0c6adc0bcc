//go:build !unix

package host

import "os/exec"

// setProcAttr does nothing here: go-plugin's Kill and the SDK's parent
// watch end plugins.
func setProcAttr(*exec.Cmd) {}

func killGroup(int) {}
