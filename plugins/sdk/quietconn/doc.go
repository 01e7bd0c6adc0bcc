// Package quietconn makes a connection's reads and writes raw system
// calls on its non-blocking socket. Plugin authors do not need it: the
// SDK and meshbridge's sidecar use it on their hot connections.
//
// Why: Go's Read and Write on a net.Conn tell the runtime a system call
// began (entersyscall). When the process was idle, that wakes the
// runtime's monitor thread (sysmon), which then polls every 20 µs for a
// while; in a busy process the monitor may take the goroutine's P away
// from a read or write it sees twice in a row, handing it to another
// thread. On a socket that never blocks (Go's are non-blocking; the
// netpoller does the waiting) neither helps. For a plugin called a few
// thousand times a second that was two thread wake-ups per call, a fifth
// of its CPU (docs/benchmarks.md, "Plugins"). On systems other than Linux,
// Wrap returns the connection as it is.
package quietconn
