// Package poll is how tests wait for something that comes true in the
// background: a registration reaching a view, a process getting ready, a
// connection being released. There is one loop, bounded, with its timeout
// and pause set once here, so every package's tests wait the same way and
// a failure says what was awaited and, where the check can tell, what it
// saw last. It is for tests only (it fails a testing.TB); production
// loops wait with internal/wait.
package poll
