// Package v1 serves Nacos's v1 HTTP API under /nacos: naming
// (/nacos/v1/ns: instance register, deregister, update, detail, list,
// beat; service list and detail; operator metrics), config
// (/nacos/v1/cs/configs and the long-polling listener) and login
// (/nacos/v1/auth). Nacos 1.x clients use it for everything; 2.x clients
// for login, persistent instances and instance updates.
//
// Ephemeral instances registered here are kept alive by heartbeats: they
// turn unhealthy after the beat timeout (15 s) and their registry lease
// runs out after the delete timeout (30 s), when the store removes them.
package v1
