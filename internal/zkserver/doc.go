// Package zkserver runs Debian's ZooKeeper server (the zookeeper package,
// which `make zookeeper` installs): where java and the server are, the
// standalone configuration and command line, and a client session with it
// (Connect, and Probe, the check that it hands out sessions).
// internal/zookeepertest runs it for tests, the scenario runner as a
// legacy registry; both launch it the same way from here.
package zkserver
