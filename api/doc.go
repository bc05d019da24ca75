// Package api is Sessionguard's wire contract (v1): the JSON types, error
// codes, revoke reasons, audit types and event names shared by client and server.
package api
