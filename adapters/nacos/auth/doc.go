// Package auth implements Nacos's username/password login and the access
// tokens every other call must carry when auth is on. Tokens are signed
// with a secret the operator must configure: there is no built-in default
// (a public default secret let anyone forge tokens on real Nacos servers).
package auth
