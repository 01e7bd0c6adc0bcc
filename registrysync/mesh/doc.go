// Package mesh is registrysync's connector for the mesh registry itself,
// reached through registry-adapter's control API (control.Client): its
// source lists the instances and follows the control API's watch, its
// sink registers copies as ephemeral instances with a lease it renews.
// It also elects the replica of a syncer that writes, through the
// control API's elections (NewElector). See README.md.
package mesh
