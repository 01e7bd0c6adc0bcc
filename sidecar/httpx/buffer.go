package httpx

import (
	"sync"
	"time"
)

// CopyBuffers holds the 32 KiB buffers bodies and tunnels are copied
// through, shared by the server, the client and the proxy's tunnels.
var CopyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// LongAgo is a deadline that has passed: setting it ends a blocked read or
// write at once.
var LongAgo = time.Unix(1, 0)
