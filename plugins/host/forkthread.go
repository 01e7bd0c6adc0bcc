package host

import (
	"runtime"
	"sync"
)

// onForkThread runs start, which forks the plugin, on a goroutine locked
// to its thread, and keeps that thread out of the runtime's pool until
// release: the kernel ties a child's parent-death signal (Pdeathsig, see
// setProcAttr) to the thread that forked it, not to the process, and a
// pooled thread ends when any goroutine exits locked to it, which would
// kill the plugin with it. Release once the plugin's process is gone. One
// parked thread per running plugin is the cost.
func onForkThread(start func()) (release func()) {
	started, released := make(chan struct{}), make(chan struct{})
	go func() {
		runtime.LockOSThread()
		start()
		close(started)
		<-released
		runtime.UnlockOSThread()
	}()
	<-started
	var once sync.Once
	return func() { once.Do(func() { close(released) }) }
}
