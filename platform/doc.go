// Package platform is Sessionguard's OS integration: the secret store (OS
// keyring or app-private file), the device description sent at sign-in, and data directories.
package platform
