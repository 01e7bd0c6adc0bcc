// Package quietconn makes a connection's reads and writes raw system
// calls (recvfrom and sendto with MSG_DONTWAIT, which never block, while
// Go's netpoller still does the waiting), and a non-blocking pipe's
// (read and write). The sidecar uses it on its connections, the plugin
// SDK on the pipes of a plugin's calls' channel.
//
// It is a module of its own (github.com/meshbridge/meshbridge/internal/quietconn)
// because both of those modules need it and neither may import the other's
// code for it: the root module (the sidecar) imports the SDK module, which
// cannot import the root module back. Its path keeps it internal to
// meshbridge's own modules: a plugin author's code cannot import it.
//
// Why: Go's Read and Write on a net.Conn tell the runtime a system call
// began (entersyscall). When the process was idle, that wakes the
// runtime's monitor thread (sysmon), which then polls every 20 µs for a
// while; in a busy process the monitor may take the goroutine's P away
// from a read or write it sees twice in a row, handing it to another
// thread. For a call that never blocks neither helps. For a plugin called a few
// thousand times a second that was two thread wake-ups per call, a fifth
// of its CPU (docs/benchmarks.md, "Plugins"). On systems other than Linux
// on amd64 or arm64, Wrap returns the connection as it is.
//
// WrapFile does the same for a pipe in non-blocking mode (the plugin's
// calls go through two pipes). read and write have no MSG_DONTWAIT: they
// rely on the mode, which WrapFile checks once.
package quietconn
