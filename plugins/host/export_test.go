package host

// SetTestHookAfterPin lets host_test swap a binary between the pinning and
// the start of a plugin.
func SetTestHookAfterPin(f func(path string)) (restore func()) {
	old := testHookAfterPin
	testHookAfterPin = f
	return func() { testHookAfterPin = old }
}

// SetGRPCCalls makes plugins started from now on take their calls through
// grpc-go's transport (on) or the plugin's channel (off, the default).
func SetGRPCCalls(on bool) { testHookGRPCCalls = on }
