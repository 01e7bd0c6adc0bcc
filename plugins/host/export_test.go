package host

import "os"

// SetTestHookAfterPin lets host_test swap a binary between the pinning and
// the start of a plugin.
func SetTestHookAfterPin(f func(path string)) (restore func()) {
	old := testHookAfterPin
	testHookAfterPin = f
	return func() { testHookAfterPin = old }
}

// SetGRPCCalls makes plugins started from now on take their calls through
// grpc-go's transport (on) or the plugin's channel (off, the default), as
// MESHBRIDGE_PLUGIN_CALLS=grpc in the host's environment does.
func SetGRPCCalls(on bool) {
	if on {
		_ = os.Setenv(callsOnGRPCEnv, "grpc") // a valid name and value: it cannot fail
	} else {
		_ = os.Unsetenv(callsOnGRPCEnv)
	}
}
