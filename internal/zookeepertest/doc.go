// Package zookeepertest starts a real ZooKeeper server for tests, from the
// system's installation (Debian's zookeeper package, which .ci/run and
// `make zookeeper` install), on a loopback port with its data in a
// temporary directory, and ends sessions the way the server does when they
// expire, so that code keeping ephemeral nodes can be tested against the
// server's own behaviour.
//
// A test that needs ZooKeeper calls Start; where java or ZooKeeper is not
// installed the test is skipped with a message saying how to install it,
// unless MESHBRIDGE_REQUIRE_ZOOKEEPER is set (as CI sets it), in which
// case it fails.
package zookeepertest
